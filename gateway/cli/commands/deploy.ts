/** `hearth deploy <dir|file>`: packs and uploads, creating the function's next version. */
import { MEMORY_MB, TIMEOUT_MS } from '../../deploy/function-settings.ts';
import type { FunctionView } from '../../store/functions-store.ts';
import { RUNTIME_NAMES, resolveRuntime } from '../../../runtime-images/runtimes.ts';
import { usageError } from '../cli-error.ts';
import { fnPath, intOption, parseCommandArgs, write, type Command } from '../command.ts';
import { guessHandler, guessRuntime, readDeploySource } from '../deploy-source.ts';
import { formatBytes } from '../format.ts';
import type { FormPart } from '../multipart-upload.ts';
import { DEFAULT_IGNORE_PATTERNS } from '../folder-listing.ts';
import { progressReporter } from '../upload-progress.ts';
import { contentsLabel, dryRunReport, excludedLine } from '../upload-summary.ts';

const OPTIONS = {
  name: { type: 'string', short: 'n' },
  runtime: { type: 'string', short: 'r' },
  handler: { type: 'string' },
  memory: { type: 'string' },
  timeout: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  'secret-env': { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  'min-warm': { type: 'string' },
  'max-concurrency': { type: 'string' },
  'keep-alive': { type: 'string' },
  network: { type: 'string' },
  public: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'upload a folder or a file as the next version of a function',
  help: `Usage: hearth deploy <dir|file> [options]

Uploads a function. A folder is zipped by the CLI (file modes and symlinks
inside it are kept); a single file (.js, .py, or a .zip or .tar.gz, which
needs --runtime) is uploaded as is. Prints the new version.

Left out of a folder by default, and named on stderr (version control,
secrets, keys and clutter):
  ${wrap(DEFAULT_IGNORE_PATTERNS.join(' '), 74, '  ')}
A .hearthignore at the top of the folder adds patterns in gitignore syntax
(# comments, ! re-includes, a trailing / means folders only, a leading /
anchors to the folder, * ? ** [a-z]); "!.env.example" brings back a default.
A folder left out is not looked into. Uploaded code is kept by the platform:
check what goes with --dry-run first.

Options:
  -n, --name <name>            function name (default: the folder or file name, as a DNS label)
  -r, --runtime <runtime>      ${RUNTIME_NAMES.join(' | ')} (default: guessed from a bootstrap file,
                               package.json, requirements.txt, the file extensions or lib/*.jar)
      --handler <file.fn>      entry point (default: index.handler / main.handler, or the only source file)
      --memory <MB>            memory limit, ${MEMORY_MB.min}-${MEMORY_MB.max} (default ${MEMORY_MB.default})
      --timeout <ms>           time limit per call, ${TIMEOUT_MS.min}-${TIMEOUT_MS.max} (default ${TIMEOUT_MS.default})
  -e, --env <KEY=VALUE>        environment variable; repeat for more
      --secret-env <KEY=SECRET> environment variable holding the namespace secret SECRET (its
                               value is never sent or shown; also a file /run/secrets/SECRET)
      --secret <SECRET>        the namespace secret as a file /run/secrets/SECRET; repeat for more
      --min-warm <n>           containers kept initialised while an alias (latest) points at it
      --max-concurrency <n>    calls running at once; more wait in the queue
      --keep-alive <ms>        how long an idle container is kept
      --network <none|egress>  none (default: no network at all) or egress (internet, never private ranges)
      --public                 the function's URL (/fn/<name>) answers without a key
      --dry-run                print what would be uploaded (paths, sizes, total, what is
                               left out) and upload nothing
`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('deploy', argv, OPTIONS, { required: ['dir|file'] });
    const fields = settingsFields(values);
    const source = await readDeploySource(positionals[0]!);
    const name = values.name ?? source.defaultName;
    if (!name) throw usageError(`cannot make a function name out of "${positionals[0]}": pass --name`, 'deploy');

    const given = values.runtime ?? guessRuntime(source.topLevel, values.handler, source.entries.map((e) => e.path));
    if (!given) throw usageError(`cannot tell the runtime of ${positionals[0]}: pass --runtime (${RUNTIME_NAMES.join(' or ')})`, 'deploy');
    // A Lambda name (nodejs22.x, provided.al2023) is sent as given: the answer says what it runs on.
    const resolved = resolveRuntime(given);
    if (!resolved) throw usageError(`--runtime must be one of ${RUNTIME_NAMES.join(', ')} or a Lambda runtime name, got "${given}"`, 'deploy');
    const runtime = resolved.requested;
    const handler = values.handler ?? guessHandler(resolved.runtime, source.topLevel, source.packageMain);

    if (values['dry-run']) {
      write(ctx.stdout, dryRunReport(source, `${name} (${runtime}, ${handler ?? 'default handler'}) from ${positionals[0]}`));
      return 0;
    }
    if (source.kind === 'folder') {
      const excluded = excludedLine(source.excluded, source.usedIgnoreFile);
      if (excluded) write(ctx.stderr, excluded);
      write(ctx.stderr, `packed ${contentsLabel(source)} into ${formatBytes(source.data.length)}`);
    }
    const parts: FormPart[] = [
      { name: 'code', filename: source.filename, data: source.data },
      { name: 'runtime', value: runtime },
      ...(handler ? [{ name: 'handler', value: handler }] : []),
      ...Object.entries(fields).map(([key, value]) => ({ name: key, value })),
    ];
    const client = await ctx.client();
    const fn = await client.upload<FunctionView & { version: number; runtimeResolved?: { requested: string; runtime: string; version?: string } }>(
      'PUT',
      fnPath(name),
      parts,
      progressReporter(ctx.stderr),
    );
    const v = fn.latest;
    const r = fn.runtimeResolved;
    if (r) write(ctx.stderr, `${r.requested} runs on ${r.runtime}${r.version ? ` (${r.version})` : ''}`);
    write(ctx.stdout, `deployed ${fn.name} version ${fn.version} (${v.runtime}, ${v.handler}, ${v.memoryMb} MB, timeout ${v.timeoutMs} ms)`);
    return 0;
  },
};

/** The optional settings as the API's text fields, checked for shape (the API checks ranges). */
function settingsFields(values: {
  memory?: string;
  timeout?: string;
  env?: string[];
  'secret-env'?: string[];
  secret?: string[];
  'min-warm'?: string;
  'max-concurrency'?: string;
  'keep-alive'?: string;
  network?: string;
  public?: boolean;
}): Record<string, string> {
  const fields: Record<string, string> = {};
  const ints: Array<[keyof typeof values & string, string, number]> = [
    ['memory', 'memoryMb', 1],
    ['timeout', 'timeoutMs', 1],
    ['min-warm', 'minWarm', 0],
    ['max-concurrency', 'maxConcurrency', 1],
    ['keep-alive', 'keepAliveMs', 1],
  ];
  for (const [flag, field, min] of ints) {
    const n = intOption('deploy', flag, values[flag] as string | undefined, min);
    if (n !== undefined) fields[field] = String(n);
  }
  if (values.network !== undefined) {
    if (values.network !== 'none' && values.network !== 'egress') throw usageError(`--network must be none or egress, got "${values.network}"`, 'deploy');
    fields.network = values.network;
  }
  if (values.public) fields.public = 'true';
  if (values.env || values['secret-env']) {
    const env: Record<string, string | { secret: string }> = {};
    for (const pair of values.env ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw usageError(`--env takes KEY=VALUE, got "${pair}"`, 'deploy');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    for (const pair of values['secret-env'] ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) throw usageError(`--secret-env takes KEY=SECRET, got "${pair}"`, 'deploy');
      env[pair.slice(0, eq)] = { secret: pair.slice(eq + 1) };
    }
    fields.env = JSON.stringify(env);
  }
  if (values.secret) fields.secrets = JSON.stringify(values.secret);
  return fields;
}

/** Words of `text` in lines of at most `width`, continuation lines indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${indent}`);
}
