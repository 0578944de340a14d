/**
 * The JSON bodies of the Lambda operations Hearth serves, validated with zod,
 * and their translation into Hearth's function settings (through the same
 * `parseFunctionSettings` a deploy uses). Fields Hearth cannot honour in a
 * way that would change how the function runs (S3 or image code, layers, VPC,
 * file systems, another architecture) are refused; descriptive ones (Role,
 * Description, Tags, TracingConfig, …) are accepted and not stored.
 */
import { z } from 'zod';
import { DEFAULT_ARCHIVE_LIMITS, isZip } from '../deploy/upload-archive.ts';
import { MEMORY_MB, TIMEOUT_MS, parseFunctionSettings, type FunctionSettings } from '../deploy/function-settings.ts';
import type { VersionSettings } from '../store/functions-store.ts';
import { LambdaError } from './lambda-errors.ts';
import { ARCHITECTURE } from './lambda-shapes.ts';
import { hearthRuntime } from './runtime-map.ts';

/** The largest CreateFunction / UpdateFunctionCode request: a 50 MiB zip, base64-encoded, plus the other fields. */
export const MAX_CODE_REQUEST_BYTES = Math.ceil(DEFAULT_ARCHIVE_LIMITS.maxUploadBytes / 3) * 4 + 64 * 1024;

const settingsShape = {
  Runtime: z.string().optional(),
  Handler: z.string().optional(),
  MemorySize: z.number().int().optional(),
  Timeout: z.number().int().optional(),
  Environment: z.object({ Variables: z.record(z.string(), z.string()).optional() }).optional(),
  Role: z.string().optional(),
  Description: z.string().optional(),
  // Refused when they ask for something Hearth does not do (see `refuseUnsupported`).
  Layers: z.array(z.string()).optional(),
  VpcConfig: z.object({ SubnetIds: z.array(z.string()).optional() }).optional(),
  FileSystemConfigs: z.array(z.unknown()).optional(),
  ImageConfig: z.unknown().optional(),
};

const codeShape = {
  ZipFile: z.string().optional(),
  S3Bucket: z.string().optional(),
  S3Key: z.string().optional(),
  S3ObjectVersion: z.string().optional(),
  ImageUri: z.string().optional(),
  Architectures: z.array(z.string()).optional(),
};

const createFunction = z.object({
  FunctionName: z.string(),
  ...settingsShape,
  Code: z.object(codeShape),
  Publish: z.boolean().optional(),
  PackageType: z.string().optional(),
  Architectures: z.array(z.string()).optional(),
});

const updateCode = z.object({ ...codeShape, Publish: z.boolean().optional(), DryRun: z.boolean().optional(), RevisionId: z.string().optional() });
const updateConfiguration = z.object({ ...settingsShape, RevisionId: z.string().optional() });
const publishVersion = z.object({ CodeSha256: z.string().optional(), Description: z.string().optional(), RevisionId: z.string().optional() });

export type CreateFunctionInput = z.infer<typeof createFunction>;
export type UpdateCodeInput = z.infer<typeof updateCode>;
export type UpdateConfigurationInput = z.infer<typeof updateConfiguration>;
export type PublishVersionInput = z.infer<typeof publishVersion>;

export const parseCreateFunction = (body: Uint8Array) => parseBody(createFunction, body);
export const parseUpdateCode = (body: Uint8Array) => parseBody(updateCode, body);
export const parseUpdateConfiguration = (body: Uint8Array) => parseBody(updateConfiguration, body);
export const parsePublishVersion = (body: Uint8Array) => parseBody(publishVersion, body);

function parseBody<T>(schema: z.ZodType<T>, body: Uint8Array): T {
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new LambdaError('InvalidRequestContentException', 'Could not parse request body into json: the body is not a JSON document');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `Value at '${i.path.join('.') || 'body'}' failed to satisfy constraint: ${i.message}`);
    throw new LambdaError('InvalidParameterValueException', `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The zip bytes of `Code.ZipFile` (or UpdateFunctionCode's `ZipFile`); only zips are taken, only inline. */
export function zipFileOf(code: z.infer<z.ZodObject<typeof codeShape>>): Uint8Array {
  if (code.S3Bucket !== undefined || code.S3Key !== undefined || code.S3ObjectVersion !== undefined || code.ImageUri !== undefined) {
    throw new LambdaError('InvalidParameterValueException', 'Hearth takes code only inline, as ZipFile: S3Bucket/S3Key and ImageUri are not supported.');
  }
  if (code.Architectures !== undefined) refuseArchitectures(code.Architectures);
  if (code.ZipFile === undefined || code.ZipFile === '') {
    throw new LambdaError('InvalidParameterValueException', 'Please provide a source for function code: ZipFile is required.');
  }
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(code.ZipFile)) {
    throw new LambdaError('InvalidParameterValueException', 'ZipFile must be base64-encoded.');
  }
  const bytes = Buffer.from(code.ZipFile, 'base64');
  if (!isZip(bytes)) throw new LambdaError('InvalidParameterValueException', 'Could not unzip uploaded file. Please check your file, then try to upload again.');
  return bytes;
}

/** Refuses settings that would change how the function runs in ways Hearth cannot. */
export function refuseUnsupported(input: UpdateConfigurationInput & { PackageType?: string; Architectures?: string[] }): void {
  const refuse = (what: string) => new LambdaError('InvalidParameterValueException', `${what} is not supported by Hearth.`);
  if (input.PackageType !== undefined && input.PackageType !== 'Zip') throw refuse(`PackageType ${input.PackageType.slice(0, 16)}`);
  if (input.Layers !== undefined && input.Layers.length > 0) throw refuse('Layers');
  if (input.VpcConfig?.SubnetIds !== undefined && input.VpcConfig.SubnetIds.length > 0) throw refuse('VpcConfig');
  if (input.FileSystemConfigs !== undefined && input.FileSystemConfigs.length > 0) throw refuse('FileSystemConfigs');
  if (input.ImageConfig !== undefined) throw refuse('ImageConfig');
  if (input.Architectures !== undefined) refuseArchitectures(input.Architectures);
}

function refuseArchitectures(architectures: string[]): void {
  if (architectures.length !== 1 || architectures[0] !== ARCHITECTURE) {
    throw new LambdaError('InvalidParameterValueException', `Hearth runs functions on ${ARCHITECTURE} only; Architectures must be ["${ARCHITECTURE}"].`);
  }
}

/**
 * Hearth settings from Lambda's, over `base` (the latest version's, for an
 * update; null for a new function). `Timeout` is in seconds; `Environment`
 * replaces the whole environment; Hearth-only settings (keep-alive, warm
 * pool, concurrency, network, public) carry over unchanged.
 */
/** Hearth's timeout range in Lambda's whole seconds. */
const TIMEOUT_S = { min: Math.ceil(TIMEOUT_MS.min / 1000), max: Math.floor(TIMEOUT_MS.max / 1000) };

export function settingsFrom(input: z.infer<z.ZodObject<typeof settingsShape>>, base: VersionSettings | null): FunctionSettings {
  const runtime = input.Runtime !== undefined ? hearthRuntime(input.Runtime) : base?.runtime;
  if (runtime === undefined) throw new LambdaError('InvalidParameterValueException', 'Runtime is required for a .zip deployment package.');
  if (input.Timeout !== undefined && (input.Timeout < TIMEOUT_S.min || input.Timeout > TIMEOUT_S.max)) {
    throw new LambdaError('InvalidParameterValueException', `Timeout must be from ${TIMEOUT_S.min} to ${TIMEOUT_S.max} seconds, got ${input.Timeout}.`);
  }
  if (input.MemorySize !== undefined && (input.MemorySize < MEMORY_MB.min || input.MemorySize > MEMORY_MB.max)) {
    throw new LambdaError('InvalidParameterValueException', `MemorySize must be from ${MEMORY_MB.min} to ${MEMORY_MB.max} MB on Hearth, got ${input.MemorySize}.`);
  }
  const text = (value: number | null | undefined) => (value === null || value === undefined ? undefined : String(value));
  const env = input.Environment !== undefined ? (input.Environment.Variables ?? {}) : (base?.env ?? {});
  return parseFunctionSettings({
    runtime,
    handler: input.Handler ?? base?.handler,
    memoryMb: text(input.MemorySize ?? base?.memoryMb),
    timeoutMs: text(input.Timeout !== undefined ? input.Timeout * 1000 : base?.timeoutMs),
    env: JSON.stringify(env),
    keepAliveMs: text(base?.keepAliveMs),
    minWarm: text(base?.minWarm),
    maxConcurrency: text(base?.maxConcurrency),
    network: base?.network,
    public: base === null ? undefined : String(base.public),
  });
}
