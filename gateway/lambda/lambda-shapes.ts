/**
 * The Lambda API's response shapes, built from Hearth's function versions.
 * `$LATEST` is Hearth's latest version under Lambda's name for it; a
 * numbered version is the Hearth version of that number.
 */
import { createHash } from 'node:crypto';
import type { VersionView } from '../store/functions-store.ts';
import { ACCOUNT_ID, functionArn } from './function-identifier.ts';
import { lambdaRuntime } from './runtime-map.ts';

/** Reported for every function: Hearth takes a role, but runs nothing under it. */
const PLACEHOLDER_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/hearth-function`;

/** What Hearth reports of Lambda's `FunctionConfiguration`. */
export interface FunctionConfiguration {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Role: string;
  Handler: string;
  CodeSize: number;
  Description: string;
  Timeout: number;
  MemorySize: number;
  LastModified: string;
  CodeSha256: string;
  Version: string;
  Environment?: { Variables: Record<string, string> };
  TracingConfig: { Mode: 'PassThrough' };
  RevisionId: string;
  State: 'Active';
  LastUpdateStatus: 'Successful';
  PackageType: 'Zip';
  Architectures: string[];
  EphemeralStorage: { Size: number };
}

export interface ConfigurationOptions {
  region: string;
  name: string;
  /** `$LATEST` (unqualified ARN) or the version itself (qualified ARN). */
  as: '$LATEST' | 'version';
  /** Echoed from the request that made this version; otherwise the placeholders. */
  role?: string;
  description?: string;
}

/** The architecture the worker's containers run, in Lambda's words. */
export const ARCHITECTURE = process.arch === 'arm64' ? 'arm64' : 'x86_64';

export function functionConfiguration(version: VersionView, options: ConfigurationOptions): FunctionConfiguration {
  const qualifier = options.as === '$LATEST' ? undefined : String(version.version);
  const hasEnv = Object.keys(version.env).length > 0;
  return {
    FunctionName: options.name,
    FunctionArn: functionArn(options.region, options.name, qualifier),
    Runtime: lambdaRuntime(version.runtime),
    Role: options.role ?? PLACEHOLDER_ROLE,
    Handler: version.handler,
    CodeSize: version.codeSizeBytes,
    Description: options.description ?? '',
    Timeout: Math.ceil(version.timeoutMs / 1000),
    MemorySize: version.memoryMb,
    LastModified: lambdaTimestamp(version.createdAt),
    CodeSha256: Buffer.from(version.codeSha256, 'hex').toString('base64'),
    Version: qualifier ?? '$LATEST',
    ...(hasEnv ? { Environment: { Variables: version.env } } : {}),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: revisionId(options.name, version),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [ARCHITECTURE],
    EphemeralStorage: { Size: 512 },
  };
}

/** Lambda's `2024-05-01T12:34:56.789+0000`. */
function lambdaTimestamp(iso: string): string {
  return iso.replace(/Z$/, '+0000');
}

/** A stable uuid-shaped id per version (Hearth versions never change, so neither does this). */
function revisionId(name: string, version: VersionView): string {
  const hex = createHash('sha256').update(`${name}\n${version.version}\n${version.createdAt}\n${version.codeSha256}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
