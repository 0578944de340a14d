/**
 * The one place functions change: deploy a new version, update its code or
 * its settings, roll back, delete, and tell every gateway and worker it
 * happened. The REST routes (`routes/deploy-function.ts`,
 * `delete-function.ts`, `rollback-function.ts`), the Lambda front door
 * (`lambda/manage-functions.ts`) and a forced namespace delete all call it,
 * so their ordering guarantees are written once.
 *
 * Left to the callers on purpose: reading and bounding the request (each
 * front door holds its upload budget while the body arrives and until the
 * call returns), parsing settings from its own wire format, and phrasing
 * "no such function" (REST answers `FunctionNotFound`, Lambda names the
 * ARN), which is why `delete` answers null rather than throwing.
 */
import type { ControlMessage } from '../../worker/contract/messages.ts';
import type { Logger } from '../../worker/common/logger.ts';
import { QueueUnavailableError, type InvocationQueue } from '../queue/invocation-queue.ts';
import { assertFunctionName, assertHandlerFileExists } from '../deploy/function-settings.ts';
import { packUpload, type PackedCode, type UploadInput } from '../deploy/upload-archive.ts';
import { HearthError, notFound } from '../errors.ts';
import {
  LATEST_ALIAS,
  type AliasSpec,
  type AliasView,
  type DeployedFunction,
  type FunctionDetails,
  type FunctionStore,
  type VersionSettings,
  type VersionView,
} from '../store/functions-store.ts';
import { sameCodeAs, settingsOf } from './next-version.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';
import { assertRuntimeServed, reportsOrNone } from '../runtimes/runtime-availability.ts';

/** A function of a namespace. */
export interface FunctionRef {
  namespace: string;
  name: string;
}

/** The ports the service changes functions through, and how it tags its log lines. */
export interface FunctionServiceOptions {
  functions: FunctionStore;
  /** Only the tombstone: queued calls of a deleted function are never started. */
  queue: Pick<InvocationQueue, 'markFunctionDeleted'>;
  /** Best effort, never throws (`GatewayDeps.announce`). */
  announce(message: ControlMessage): Promise<void>;
  log: Logger;
  /** Added to every log line as `via` (e.g. `lambda-api`); the REST routes leave it out. */
  via?: string;
  /** Live workers' reports: a new version of a runtime none of them serves is refused (`runtime-availability.ts`); absent: never refused. */
  metrics?: { workers(): Promise<WorkerReport[]> };
}

export interface FunctionService {
  /**
   * Packs `code` canonically, refuses it if the handler's file is not in it
   * (400 `HandlerNotFound`), stores it as the function's next version with
   * `settings` (created when absent; the store enforces the namespace's
   * quotas, 409 `QuotaExceeded`, pruning old versions), then announces
   * `function-changed`. Throws 400 `InvalidName` for a name that is not a
   * DNS label and the archive's 400/413 for an unsafe or oversized package,
   * and 400 `RuntimeUnavailable` when workers have reported and none serves
   * the runtime (`runtimeRequested`, the Lambda name given, is named then).
   */
  deploy(fn: FunctionRef & { settings: VersionSettings & { runtimeRequested?: string }; code: UploadInput; moveLatest?: boolean }): Promise<DeployedFunction>;
  /** Packs `code` and checks the handler of `settings` is in it, storing nothing (a dry run). */
  checkCode(settings: Pick<VersionSettings, 'runtime' | 'handler'>, code: UploadInput): Promise<PackedCode>;
  /** As `deploy`, with the settings of `current` (the version the caller read as latest). */
  updateCode(fn: FunctionRef & { current: VersionView; code: UploadInput }): Promise<DeployedFunction>;
  /**
   * A new version with `settings` and the code of `current`, announced.
   * The handler's file is not looked for (Lambda does not either: a wrong
   * one fails at invoke).
   */
  updateSettings(fn: FunctionRef & { current: VersionView; settings: VersionSettings }): Promise<DeployedFunction>;
  /**
   * Points latest at `version` and announces `function-changed`; answers
   * the function as it now is (null only if it was deleted in between).
   * Throws 404 `FunctionNotFound` or `VersionNotFound`, and 409
   * `QuotaExceeded` when the version's minWarm does not fit the namespace.
   */
  rollback(fn: FunctionRef & { version: number }): Promise<FunctionDetails | null>;
  /**
   * Deletes the function so that none of its queued calls ever starts: the
   * tombstone (`markFunctionDeleted`) is written first, then the rows (and
   * the code nothing else refers to) go, then `function-deleted` is
   * announced, so workers drop its containers; a worker that misses it
   * drops them at keep-alive. Calls already running finish. Returns the
   * function's id, or null when there is no such function (nothing written,
   * nothing announced). Redis away: 503 `QueueUnavailable` and nothing is deleted.
   */
  delete(fn: FunctionRef): Promise<string | null>;
  /**
   * Deletes one version. Throws 404 `FunctionNotFound`/`VersionNotFound`,
   * and 409 `VersionInUse` (with `details.aliases`) while an alias points at it.
   */
  deleteVersion(fn: FunctionRef & { version: number }): Promise<void>;
  /** Creates or replaces an alias and announces it (404 `FunctionNotFound`/`VersionNotFound`, 409 `RolloutInProgress`/`QuotaExceeded`). */
  putAlias(fn: FunctionRef & { alias: string; spec: AliasSpec }): Promise<{ alias: AliasView; created: boolean }>;
  /** Deletes an alias and announces it (404 `FunctionNotFound`/`AliasNotFound`, 409 `AliasProtected` for `latest`). */
  deleteAlias(fn: FunctionRef & { alias: string }): Promise<void>;
}

export function createFunctionService(options: FunctionServiceOptions): FunctionService {
  const { functions, queue, log } = options;
  const tagged = (fields: Record<string, unknown>) => (options.via === undefined ? fields : { ...fields, via: options.via });
  const changed = ({ namespace, name }: FunctionRef, code?: { sha256: string; runtime: string }) =>
    options.announce({ type: 'function-changed', namespace, name, ...(code ? { code } : {}) });

  const checkCode: FunctionService['checkCode'] = async (settings, code) => {
    const packed = await packUpload(code);
    assertHandlerFileExists(settings.runtime, settings.handler, packed.files, packed.symlinks);
    return packed;
  };

  /** Refuses a runtime no live worker serves, once any has reported. */
  const assertServed = async (runtime: VersionSettings['runtime'], requested?: string) => {
    if (options.metrics) assertRuntimeServed(await reportsOrNone(() => options.metrics!.workers()), runtime, requested);
  };

  const deploy: FunctionService['deploy'] = async ({ namespace, name, settings, code, moveLatest }) => {
    assertFunctionName(name);
    await assertServed(settings.runtime, settings.runtimeRequested);
    const packed = await checkCode(settings, code);
    const fn = await functions.createVersion(namespace, name, settings, packed, moveLatest === false ? { moveLatest } : undefined);
    log.info('function deployed', tagged({ name, version: fn.createdVersion, latest: fn.latestVersion, sha256: packed.sha256 }));
    await changed({ namespace, name }, { sha256: packed.sha256, runtime: settings.runtime });
    return fn;
  };

  return {
    deploy,
    checkCode,
    updateCode: ({ current, ...rest }) => deploy({ ...rest, settings: settingsOf(current) }),

    async updateSettings({ namespace, name, current, settings }) {
      if (settings.runtime !== current.runtime) await assertServed(settings.runtime);
      const fn = await functions.createVersion(namespace, name, settings, sameCodeAs(current));
      log.info('function reconfigured', tagged({ name, version: fn.latestVersion }));
      await changed({ namespace, name });
      return fn;
    },

    async rollback({ namespace, name, version }) {
      const result = await functions.setLatestVersion(namespace, name, version);
      if (result === 'no-function') throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      if (result === 'no-version') throw notFound('VersionNotFound', `function "${name}" has no version ${version}`);
      log.info('function rolled back', tagged({ name, version }));
      await changed({ namespace, name });
      return functions.get(namespace, name);
    },

    async delete({ namespace, name }) {
      const existing = await functions.resolveVersion(namespace, name);
      if (!existing) return null;
      try {
        await queue.markFunctionDeleted(existing.functionId);
      } catch (err) {
        if (!(err instanceof QueueUnavailableError)) throw err;
        throw new HearthError('QueueUnavailable', `${err.message}; the function was not deleted, retry shortly`);
      }
      const functionId = await functions.delete(namespace, name);
      if (!functionId) return null;
      await options.announce({ type: 'function-deleted', namespace, name, functionId });
      log.info('function deleted', tagged({ name }));
      return functionId;
    },

    async deleteVersion({ namespace, name, version }) {
      const result = await functions.deleteVersion(namespace, name, version);
      if (result === 'no-function') throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      if (result === 'no-version') throw notFound('VersionNotFound', `function "${name}" has no version ${version}`);
      if (typeof result === 'object') {
        const named = result.aliases.map((a) => `"${a}"`).join(', ');
        throw new HearthError('VersionInUse', `version ${version} of "${name}" is pointed at by alias ${named}; move the alias first`, { aliases: result.aliases });
      }
      log.info('function version deleted', tagged({ name, version }));
      await changed({ namespace, name });
    },

    async putAlias({ namespace, name, alias, spec }) {
      const put = await functions.putAlias(namespace, name, alias, spec);
      log.info('alias set', tagged({ name, alias, version: spec.version, weighted: spec.weighted }));
      await changed({ namespace, name });
      return put;
    },

    async deleteAlias({ namespace, name, alias }) {
      if (alias === LATEST_ALIAS) throw new HearthError('AliasProtected', `the latest alias cannot be deleted; point it elsewhere with PUT .../aliases/latest or a rollback`);
      const result = await functions.deleteAlias(namespace, name, alias);
      if (result === 'no-function') throw notFound('FunctionNotFound', `function "${name}" does not exist`);
      if (result === 'no-alias') throw notFound('AliasNotFound', `function "${name}" has no alias "${alias}"`);
      log.info('alias deleted', tagged({ name, alias }));
      await changed({ namespace, name });
    },
  };
}
