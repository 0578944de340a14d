/**
 * The JSON bodies of the Lambda operations Hearth serves, validated with zod,
 * and their translation into Hearth's function settings (through the same
 * `parseFunctionSettings` a deploy uses). Fields Hearth cannot honour in a
 * way that would change how the function runs (S3 or image code, layers, VPC
 * subnets, file systems, another architecture) are refused; the rest Hearth
 * has no use for (Role, Description, TracingConfig, DeadLetterConfig,
 * KMSKeyArn, EphemeralStorage, empty Layers or VpcConfig, …) are accepted,
 * bounded, and not stored. Tags are stored (`manage-tags.ts`).
 */
import { z } from 'zod';
import { DEFAULT_ARCHIVE_LIMITS, isZip } from '../deploy/upload-archive.ts';
import { ENV_MAX_BYTES, MEMORY_MB, TIMEOUT_MS, parseFunctionSettings, type FunctionSettings } from '../deploy/function-settings.ts';
import type { VersionSettings } from '../store/functions-store.ts';
import { decodeBase64, scanJsonBody } from './code-request-body.ts';
import { LambdaError } from './lambda-errors.ts';
import { ARCHITECTURE } from './lambda-shapes.ts';
import { hearthRuntime } from './runtime-map.ts';

/** The largest CreateFunction / UpdateFunctionCode request: a 50 MiB zip, base64-encoded, plus the other fields. */
export const MAX_CODE_REQUEST_BYTES = Math.ceil(DEFAULT_ARCHIVE_LIMITS.maxUploadBytes / 3) * 4 + 64 * 1024;

/**
 * Every field but `ZipFile` together, in any Lambda request body: Lambda's
 * own limits (4 KB of environment, 256-character description, a few ARNs,
 * 50 tags) come to well under this.
 */
export const MAX_FIELDS_BYTES = 64 * 1024;
/** No Lambda request nests deeper than a handful of levels. */
const MAX_DEPTH = 16;

const text = (max: number) => z.string().max(max);

/**
 * A string Hearth stores (a tag, a description, a policy's fields): Lambda's
 * length, and nothing Postgres refuses (a NUL, a lone surrogate), which is
 * the caller's mistake, not a ServiceException.
 */
export const storableString = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\0') && s.isWellFormed(), 'must not hold a NUL character or a lone surrogate');
const list = <T extends z.ZodType>(max: number, item: T) => z.array(item).max(max);

/** Lambda's limit on a function's tags. */
export const MAX_TAGS = 50;

/**
 * A function's tags: keys of 1–128 characters, values of at most 256, at
 * most 50. A `__proto__` key is refused before parsing, which would
 * otherwise drop it without a word.
 */
export const tagMap = z
  .custom<unknown>((v) => !(typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')), 'a tag key may not be "__proto__"')
  .pipe(z.record(storableString(128, 1), storableString(256)).refine((tags) => Object.keys(tags).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`));

/** Lambda's environment: at most 4 KB of names and values together, names of its own shape. */
const environment = z.object({
  Variables: z
    .record(z.string().regex(/^[a-zA-Z]\w{0,127}$/, 'environment variable names are a letter then letters, digits and _'), z.string())
    .superRefine((vars, ctx) => {
      const bytes = Object.entries(vars).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      if (bytes > ENV_MAX_BYTES) ctx.addIssue({ code: 'custom', message: `the environment comes to ${bytes} bytes; Lambda allows at most ${ENV_MAX_BYTES}` });
    })
    .optional(),
});

const settingsShape = {
  Runtime: text(32).optional(),
  Handler: text(128).optional(),
  MemorySize: z.number().int().optional(),
  Timeout: z.number().int().optional(),
  Environment: environment.optional(),
  Role: text(2048).optional(),
  Description: text(256).optional(),
  // Refused when they ask for something Hearth does not do (see `refuseUnsupported`).
  Layers: list(5, text(2048)).optional(),
  VpcConfig: z.object({ SubnetIds: list(16, text(1024)).optional(), SecurityGroupIds: list(5, text(1024)).optional() }).optional(),
  FileSystemConfigs: list(1, z.unknown()).optional(),
  ImageConfig: z.unknown().optional(),
  Tags: tagMap.optional(),
  // Accepted and not stored; bounded like everything else (fields not named here are dropped unread).
  KMSKeyArn: text(2048).optional(),
  DeadLetterConfig: z.object({ TargetArn: text(2048).optional() }).optional(),
  TracingConfig: z.object({ Mode: text(16).optional() }).optional(),
  EphemeralStorage: z.object({ Size: z.number().int().min(512).max(10_240) }).optional(),
};

const codeShape = {
  /** '' after `scanJsonBody` took the string out; the decoded bytes travel beside the input. */
  ZipFile: z.string().max(MAX_FIELDS_BYTES).optional(),
  S3Bucket: text(63).optional(),
  S3Key: text(1024).optional(),
  S3ObjectVersion: text(1024).optional(),
  ImageUri: text(2048).optional(),
  Architectures: list(1, text(16)).optional(),
};

const createFunction = z.object({
  FunctionName: z.string().min(1).max(140),
  ...settingsShape,
  Code: z.object(codeShape),
  Publish: z.boolean().optional(),
  PackageType: text(16).optional(),
  Architectures: list(1, text(16)).optional(),
});

const updateCode = z.object({ ...codeShape, Publish: z.boolean().optional(), DryRun: z.boolean().optional(), RevisionId: text(64).optional() });
const updateConfiguration = z.object({ ...settingsShape, RevisionId: text(64).optional() });
const publishVersion = z.object({ CodeSha256: text(64).optional(), Description: text(256).optional(), RevisionId: text(64).optional() });

type CodeInput = z.infer<z.ZodObject<typeof codeShape>>;
/** A code-carrying request, with `ZipFile`'s bytes already decoded (null when it had none inline). */
export type WithZip<T> = T & { zip: Buffer | null };
export type CreateFunctionInput = WithZip<z.infer<typeof createFunction>>;
export type UpdateCodeInput = WithZip<z.infer<typeof updateCode>>;
export type UpdateConfigurationInput = z.infer<typeof updateConfiguration>;
export type PublishVersionInput = z.infer<typeof publishVersion>;

const limits = { maxFieldsBytes: MAX_FIELDS_BYTES, maxDepth: MAX_DEPTH };

export async function parseCreateFunction(body: Uint8Array): Promise<CreateFunctionInput> {
  const { json, zip } = await scanJsonBody(body, ['Code', 'ZipFile'], limits);
  const input = validate(createFunction, json);
  return { ...input, zip: zip ?? (await inlineZip(input.Code)) };
}
export async function parseUpdateCode(body: Uint8Array): Promise<UpdateCodeInput> {
  const { json, zip } = await scanJsonBody(body, ['ZipFile'], limits);
  const input = validate(updateCode, json);
  return { ...input, zip: zip ?? (await inlineZip(input)) };
}
export const parseUpdateConfiguration = (body: Uint8Array) => parseLambdaBody(updateConfiguration, body);
export const parsePublishVersion = (body: Uint8Array) => parseLambdaBody(publishVersion, body);

/**
 * A ZipFile the scan did not take out (its key was written with escapes):
 * small, as it counted against the fields' budget, and decoded the same way.
 */
async function inlineZip(code: CodeInput): Promise<Buffer | null> {
  if (code.ZipFile === undefined || code.ZipFile === '') return null;
  const quoted = Buffer.from(JSON.stringify(code.ZipFile));
  return (await decodeBase64(quoted, 1)).bytes;
}

/** The JSON body of a small Lambda request (an empty one is `{}`), validated by `schema`. */
export async function parseLambdaBody<T>(schema: z.ZodType<T>, body: Uint8Array): Promise<T> {
  return validate(schema, (await scanJsonBody(body, null, limits)).json);
}

/** At most this many problems are listed in a validation error. */
const MAX_PROBLEMS = 5;

function validate<T>(schema: z.ZodType<T>, json: unknown): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const problems = issues.slice(0, MAX_PROBLEMS).map((i) => `Value at '${i.path.join('.').slice(0, 140) || 'body'}' failed to satisfy constraint: ${i.message}`);
    const more = issues.length > MAX_PROBLEMS ? ` (and ${issues.length - MAX_PROBLEMS} more)` : '';
    throw new LambdaError('InvalidParameterValueException', `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${problems.join('; ')}${more}`);
  }
  return parsed.data;
}

/** The zip bytes of `Code.ZipFile` (or UpdateFunctionCode's `ZipFile`); only zips are taken, only inline. */
export function zipFileOf(code: CodeInput, zip: Buffer | null): Uint8Array {
  if (code.S3Bucket !== undefined || code.S3Key !== undefined || code.S3ObjectVersion !== undefined || code.ImageUri !== undefined) {
    throw new LambdaError('InvalidParameterValueException', 'Hearth takes code only inline, as ZipFile: S3Bucket/S3Key and ImageUri are not supported.');
  }
  if (code.Architectures !== undefined) refuseArchitectures(code.Architectures);
  if (zip === null || zip.length === 0) {
    throw new LambdaError('InvalidParameterValueException', 'Please provide a source for function code: ZipFile is required.');
  }
  if (!isZip(zip)) throw new LambdaError('InvalidParameterValueException', 'Could not unzip uploaded file. Please check your file, then try to upload again.');
  return zip;
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
  // Environment replaces the variables (secret references among them); left out, the version's stay, references included.
  const env = input.Environment !== undefined ? (input.Environment.Variables ?? {}) : { ...(base?.env ?? {}), ...secretReferences(base?.secretEnv) };
  return parseFunctionSettings({
    runtime,
    handler: input.Handler ?? base?.handler,
    memoryMb: text(input.MemorySize ?? base?.memoryMb),
    timeoutMs: text(input.Timeout !== undefined ? input.Timeout * 1000 : base?.timeoutMs),
    env: JSON.stringify(env),
    // Hearth's secret files carry over like its other settings.
    secrets: base?.secrets && base.secrets.length > 0 ? JSON.stringify(base.secrets) : undefined,
    keepAliveMs: text(base?.keepAliveMs),
    minWarm: text(base?.minWarm),
    maxConcurrency: text(base?.maxConcurrency),
    network: base?.network,
    public: base === null ? undefined : String(base.public),
  });
}

/** A version's variables set to secrets, in the form a deploy's env gives them. */
function secretReferences(secretEnv: Record<string, string> | undefined): Record<string, { secret: string }> {
  return Object.fromEntries(Object.entries(secretEnv ?? {}).map(([variable, name]) => [variable, { secret: name }]));
}
