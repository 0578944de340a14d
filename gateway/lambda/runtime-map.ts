/**
 * Lambda runtime identifiers and Hearth's runtimes. Several Lambda runtimes
 * share one Hearth runtime (there is one Node.js and one Python image), so a
 * configuration read back names the runtime Hearth actually runs, not
 * necessarily the one the caller asked for. The mapping itself is the
 * catalogue's (`lambdaRuntimes` in runtime-images/runtimes.ts).
 */
import { RUNTIME_NAMES, RUNTIMES, runtimeOfLambdaName, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { LambdaError } from './lambda-errors.ts';

/** Every Lambda runtime accepted, for error messages and the README. */
const LAMBDA_RUNTIMES: readonly string[] = RUNTIME_NAMES.flatMap((r) => RUNTIMES[r].lambdaRuntimes);

/** The Hearth runtime for a Lambda runtime; InvalidParameterValueException for anything else. */
export function hearthRuntime(lambdaRuntime: string): RuntimeName {
  const runtime = runtimeOfLambdaName(lambdaRuntime);
  if (runtime) return runtime;
  throw new LambdaError(
    'InvalidParameterValueException',
    `The runtime parameter of ${lambdaRuntime.slice(0, 64)} is not supported by Hearth. Use one of: ${LAMBDA_RUNTIMES.join(', ')}.`,
  );
}

/** The Lambda runtime a Hearth runtime is reported as. */
export function lambdaRuntime(runtime: RuntimeName): string {
  return RUNTIMES[runtime].reportedLambdaRuntime;
}
