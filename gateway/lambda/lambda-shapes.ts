/**
 * The Lambda API's response shapes, built from Hearth's function versions.
 * `$LATEST` is Hearth's latest version under Lambda's name for it; a
 * numbered version is the Hearth version of that number.
 */
import { createHash } from 'node:crypto';
import { weightsOf, type AliasView, type VersionView } from '../store/functions-store.ts';
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
  /** What Lambda answers for a function outside any VPC (Hearth's network is its own setting). */
  VpcConfig: { SubnetIds: []; SecurityGroupIds: []; VpcId: '' };
  SnapStart: { ApplyOn: 'None'; OptimizationStatus: 'Off' };
  LoggingConfig: { LogFormat: 'Text'; LogGroup: string };
}

export interface ConfigurationOptions {
  region: string;
  name: string;
  /** `$LATEST` (unqualified ARN) or the version itself (qualified ARN). */
  as: '$LATEST' | 'version';
  /** The alias the configuration was asked for by: its ARN is the alias's, its Version the version's. */
  alias?: string;
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
    FunctionArn: functionArn(options.region, options.name, options.alias ?? qualifier),
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
    VpcConfig: { SubnetIds: [], SecurityGroupIds: [], VpcId: '' },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${options.name}` },
  };
}

/** Lambda's `AliasConfiguration`. */
export interface AliasConfiguration {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RoutingConfig?: { AdditionalVersionWeights: Record<string, number> };
  RevisionId: string;
}

export function aliasConfiguration(alias: AliasView, region: string, name: string): AliasConfiguration {
  return {
    AliasArn: functionArn(region, name, alias.name),
    Name: alias.name,
    FunctionVersion: String(alias.version),
    Description: alias.description,
    ...(alias.weighted ? { RoutingConfig: { AdditionalVersionWeights: weightsOf(alias) } } : {}),
    RevisionId: uuidOf(`${name}\n${alias.name}\n${alias.updatedAt}\n${alias.version}\n${JSON.stringify(alias.weighted)}\n${alias.description}`),
  };
}

/** Lambda's `2024-05-01T12:34:56.789+0000`. */
export function lambdaTimestamp(iso: string): string {
  return iso.replace(/Z$/, '+0000');
}

/** A stable id per version (Hearth versions never change, so neither does this; its minWarm is not part of it). */
export function revisionId(name: string, version: VersionView): string {
  return uuidOf(`${name}\n${version.version}\n${version.createdAt}\n${version.codeSha256}`);
}

/** A uuid-shaped digest of `text`: Lambda's RevisionId of a thing that changes when `text` does. */
export function uuidOf(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
