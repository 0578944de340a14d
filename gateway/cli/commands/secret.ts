/**
 * `hearth secret set|list|rm`: the namespace's secrets (`/v1/secrets`). A
 * value is read from a file or from standard input, never from the command
 * line (shell history and `ps` would keep it), and is never printed: `list`
 * shows names, versions, times and the functions that use them.
 */
import { readFile } from 'node:fs/promises';
import { usageError } from '../cli-error.ts';
import { parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatTime } from '../format.ts';
import { formatTable } from '../table.ts';
import { escapeJsonOrText } from '../terminal-text.ts';

/** Bytes read at most: one past the API's 16 KiB, so an oversized value is refused by the API with its own words. */
const READ_CAP = 16 * 1024 + 1;

interface SecretAnswer {
  name: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  usedBy?: Array<{ function: string; versions: number[]; inUse: boolean }>;
}

/** `list`'s table (pure). */
export function renderSecrets(secrets: SecretAnswer[]): string {
  if (secrets.length === 0) return 'no secrets (hearth secret set <name> < file)';
  const rows = secrets.map((s) => [
    s.name,
    String(s.version),
    `${formatTime(s.updatedAt)} UTC`,
    (s.usedBy ?? []).map((u) => `${u.function} (v${u.versions.join(', v')})${u.inUse ? '' : ' (not aliased)'}`).join('; ') || '-',
  ]);
  return formatTable(['NAME', 'VERSION', 'UPDATED', 'USED BY'], rows, { maxCellWidth: 200 });
}

/** `set`'s arguments (pure): the name, and a file to read or standard input. */
export function parseSetSecretArgs(argv: string[]): { name: string; fromFile?: string } {
  const { values, positionals } = parseCommandArgs('secret', argv, { 'from-file': { type: 'string', short: 'f' } }, { required: ['name'] });
  return { name: positionals[0]!, ...(values['from-file'] !== undefined ? { fromFile: values['from-file'] } : {}) };
}

async function readValue(request: { fromFile?: string }, ctx: CliContext): Promise<string> {
  if (request.fromFile !== undefined && request.fromFile !== '-') {
    const bytes = await readFile(request.fromFile).catch((err: NodeJS.ErrnoException) => {
      throw usageError(`cannot read ${request.fromFile}: ${err.code ?? err.message}`, 'secret');
    });
    return bytes.subarray(0, READ_CAP).toString('utf8');
  }
  if (ctx.stdin.isTTY) ctx.stderr.write('reading the value from standard input; end it with Ctrl-D (it is not echoed back anywhere)\n');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.stdin as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    size += buffer.length;
    if (size >= READ_CAP) break;
  }
  return Buffer.concat(chunks).subarray(0, READ_CAP).toString('utf8');
}

const secretPath = (name: string) => `/v1/secrets/${encodeURIComponent(name)}`;

export const secretCommand: Command = {
  name: 'secret',
  summary: "set, list or remove the namespace's secrets",
  help: `Usage: hearth secret <set|list|rm> [options]

  hearth secret set <name> [--from-file <file>]   value from the file, else from standard input
  hearth secret list [--json]
  hearth secret rm <name>

A secret is a value functions read without it being in their code or their
settings: deploy with env '{"DB_URL": {"secret": "db-url"}}' to get it as a
variable, and every secret a version names (also those in the deploy's
--secrets list) is a file /run/secrets/<name> (mode 0400). Values are
write-only: sealed at rest, never shown. Setting a new value recycles the
warm containers of the functions that use it; calls running finish with the
old value. rm is refused while a version an alias points at names it.

Names: 1-63 characters a-z 0-9 . _ -, starting with a letter or digit.
Values: 1 byte to 16 KiB, taken byte for byte (printf, not echo, avoids a newline).

Options:
  -f, --from-file <file>   read the value from this file ("-": standard input)
      --json               (list) print the API's answer unchanged
`,
  async run(argv, ctx) {
    const [action, ...rest] = argv;
    if (action === 'set') {
      const request = parseSetSecretArgs(rest);
      const value = await readValue(request, ctx);
      const answer = await (await ctx.client()).json<SecretAnswer>('PUT', secretPath(request.name), { json: { value } });
      write(ctx.stdout, `${answer.version === 1 ? 'created' : 'updated'} secret ${answer.name} (version ${answer.version})`);
      return 0;
    }
    if (action === 'list' || action === 'ls') {
      const { values } = parseCommandArgs('secret', rest, { json: { type: 'boolean' } }, { required: [] });
      const answer = await (await ctx.client()).json<{ secrets: SecretAnswer[] }>('GET', '/v1/secrets');
      write(ctx.stdout, values.json ? escapeJsonOrText(JSON.stringify(answer)) : renderSecrets(answer.secrets));
      return 0;
    }
    if (action === 'rm' || action === 'remove') {
      const { positionals } = parseCommandArgs('secret', rest, {}, { required: ['name'] });
      await (await ctx.client()).json<void>('DELETE', secretPath(positionals[0]!));
      write(ctx.stdout, `removed secret ${positionals[0]!}`);
      return 0;
    }
    throw usageError(action === undefined ? 'missing <set|list|rm>' : `unknown secret action "${action}"; use set, list or rm`, 'secret');
  },
};
