/**
 * Lambda runtime identifiers and Hearth's two runtimes. Several Lambda
 * runtimes share one Hearth runtime (there is one Node.js and one Python
 * image), so a configuration read back names the runtime Hearth actually
 * runs, not necessarily the one the caller asked for.
 */
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { LambdaError } from './lambda-errors.ts';

const NODE = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x'] as const;
const PYTHON = ['python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13'] as const;

/** What each Hearth runtime reports as its Lambda runtime (the versions the images carry). */
const REPORTED: Record<RuntimeName, string> = { nodejs20: 'nodejs20.x', python3: 'python3.11' };

/** Every Lambda runtime accepted, for error messages and the README. */
const LAMBDA_RUNTIMES: readonly string[] = [...NODE, ...PYTHON];

/** The Hearth runtime for a Lambda runtime; InvalidParameterValueException for anything else. */
export function hearthRuntime(lambdaRuntime: string): RuntimeName {
  if ((NODE as readonly string[]).includes(lambdaRuntime)) return 'nodejs20';
  if ((PYTHON as readonly string[]).includes(lambdaRuntime)) return 'python3';
  throw new LambdaError(
    'InvalidParameterValueException',
    `The runtime parameter of ${lambdaRuntime.slice(0, 64)} is not supported by Hearth. Use one of: ${LAMBDA_RUNTIMES.join(', ')}.`,
  );
}

/** The Lambda runtime a Hearth runtime is reported as. */
export function lambdaRuntime(runtime: RuntimeName): string {
  return REPORTED[runtime];
}
