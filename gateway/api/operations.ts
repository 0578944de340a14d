/**
 * Every REST operation of the API origin, in the order `/openapi.json`
 * lists them. A route added without its operation here is caught by
 * `test/api/openapi.test.ts`, which compares this list with the app's routes.
 * (Not here: the dashboard's files, `/fn/*` on the function origin, and the
 * Lambda API, which speaks the Lambda API's own contract.)
 */
import * as aliases from './aliases-api.ts';
import * as destinations from './destinations-api.ts';
import * as functions from './functions-api.ts';
import * as history from './history-api.ts';
import * as invoke from './invoke-api.ts';
import type { Operation } from './operation.ts';
import * as platform from './platform-api.ts';
import * as rollouts from './rollouts-api.ts';
import * as runtimes from './runtimes-api.ts';
import * as secrets from './secrets-api.ts';
import * as tenants from './tenants-api.ts';
import * as triggers from './triggers-api.ts';

export const API_OPERATIONS: readonly Operation[] = [
  functions.listFunctions,
  functions.getFunction,
  functions.deployFunction,
  functions.deleteFunction,
  functions.listFunctionVersions,
  functions.deleteFunctionVersion,
  functions.rollbackFunction,
  aliases.listAliases,
  aliases.getAlias,
  aliases.putAlias,
  aliases.deleteAlias,
  rollouts.startRollout,
  rollouts.getRollout,
  rollouts.listRollouts,
  rollouts.pauseRollout,
  rollouts.resumeRollout,
  rollouts.abortRollout,
  triggers.listTriggers,
  triggers.getTrigger,
  triggers.putTrigger,
  triggers.patchTrigger,
  triggers.deleteTrigger,
  destinations.getDestinations,
  destinations.putDestinations,
  destinations.deleteDestinations,
  destinations.getCallbackSecret,
  secrets.listSecrets,
  secrets.putSecret,
  secrets.deleteSecret,
  invoke.invokeFunction,
  invoke.getInvocation,
  invoke.getInvocationLogs,
  history.listFunctionLogs,
  history.listFunctionInvocations,
  history.getFunctionMetrics,
  history.getMetricsSummary,
  tenants.createNamespace,
  tenants.listNamespaces,
  tenants.updateNamespace,
  tenants.deleteNamespace,
  tenants.createKey,
  tenants.listKeys,
  tenants.revokeKey,
  platform.createSession,
  platform.getSession,
  platform.deleteSession,
  runtimes.listRuntimes,
  history.listWorkers,
  history.getPrometheusMetrics,
  platform.health,
  platform.openApi,
];
