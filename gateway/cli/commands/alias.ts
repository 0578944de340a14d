/** `hearth alias set|list|rm`: a function's named pointers at a version, optionally split with a second one by weight. */
import { ALIAS_NAME } from '../../store/alias-views.ts';
import { usageError } from '../cli-error.ts';
import { apiError } from '../client.ts';
import { fnPath, intOption, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatRate, formatTime } from '../format.ts';
import { formatTable } from '../table.ts';

/** An alias as the API answers it (`GET /v1/functions/{name}/aliases/{alias}`). */
export interface AliasAnswer {
  name: string;
  version: number;
  /** `{}`, or `{ "M": w }`: the share w of calls goes to version M. */
  weights: Record<string, number>;
  description: string;
  minWarm: number | null;
  createdAt: string;
  updatedAt: string;
}

const SET_OPTIONS = {
  version: { type: 'string', short: 'v' },
  weight: { type: 'string', short: 'w' },
  description: { type: 'string', short: 'd' },
  'min-warm': { type: 'string' },
} as const;

const USAGE = `Usage: hearth alias <set|list|rm> <name> [<alias>] [options]

  hearth alias set <name> <alias> --version N [--weight M=0.1] [--description TEXT] [--min-warm N]
  hearth alias list <name>
  hearth alias rm <name> <alias>

An alias is a named pointer at one version of a function, or at two: with
--weight M=w, the share w (0 to 1) of calls goes to version M instead. Call
it with hearth invoke's API (?alias=NAME) or /fn/<name>@<alias>/. Every
function has the alias latest, which each deploy moves; it cannot be
removed. Alias names are a lowercase letter, then up to 62 lowercase
letters, digits and dashes.

set creates the alias or replaces it: options left out take their defaults
(no weight, no description, min-warm from each version). It is refused while
a rollout moves the alias (hearth rollout status).

Options of set:
  -v, --version <n>        the version calls go to
  -w, --weight <M=w>       send the share w (0 to 1) of calls to version M
  -d, --description <text> up to 256 characters
      --min-warm <n>       containers kept initialised for each version the alias points at
`;

export const aliasCommand: Command = {
  name: 'alias',
  summary: "set, list or remove a function's aliases (weighted splits too)",
  help: USAGE,
  async run(argv, ctx) {
    const [action, ...rest] = argv;
    if (action === 'set') return setAlias(rest, ctx);
    if (action === 'list' || action === 'ls') return listAliases(rest, ctx);
    if (action === 'rm' || action === 'remove') return removeAlias(rest, ctx);
    throw usageError(action === undefined ? 'missing <set|list|rm>' : `unknown alias action "${action}"; use set, list or rm`, 'alias');
  },
};

async function setAlias(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('alias', argv, SET_OPTIONS, { required: ['name', 'alias'] });
  const [name, alias] = [positionals[0]!, aliasArg(positionals[1]!)];
  const version = intOption('alias', 'version', values.version, 1);
  if (version === undefined) throw usageError('missing --version <n>', 'alias');
  const weights = values.weight === undefined ? {} : parseWeight(values.weight);
  if (weights[String(version)] !== undefined) throw usageError(`--weight names version ${version}, the one --version sets: name another version`, 'alias');
  const minWarm = intOption('alias', 'min-warm', values['min-warm'], 0);
  const body = { version, weights, ...(values.description !== undefined ? { description: values.description } : {}), ...(minWarm !== undefined ? { minWarm } : {}) };
  const res = await (await ctx.client()).send('PUT', fnPath(name, `/aliases/${alias}`), { json: body });
  if (!res.ok) throw await apiError(res);
  const answer = (await res.json()) as AliasAnswer;
  write(ctx.stdout, `${res.status === 201 ? 'created' : 'updated'} alias ${answer.name} of ${name}: ${splitLabel(answer)}`);
  return 0;
}

async function listAliases(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseCommandArgs('alias', argv, {}, { required: ['name'] });
  const { aliases } = await (await ctx.client()).json<{ aliases: AliasAnswer[] }>('GET', fnPath(positionals[0]!, '/aliases'));
  const rows = aliases.map((a) => [
    a.name,
    a.version,
    splitLabel(a),
    a.minWarm === null ? '–' : a.minWarm,
    a.description,
    formatTime(a.updatedAt),
  ]);
  write(ctx.stdout, formatTable(['ALIAS', { header: 'VERSION', align: 'right' }, 'WEIGHTS', { header: 'MIN WARM', align: 'right' }, 'DESCRIPTION', 'UPDATED (UTC)'], rows));
  return 0;
}

async function removeAlias(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseCommandArgs('alias', argv, {}, { required: ['name', 'alias'] });
  const [name, alias] = [positionals[0]!, aliasArg(positionals[1]!)];
  await (await ctx.client()).json<void>('DELETE', fnPath(name, `/aliases/${alias}`));
  write(ctx.stdout, `removed alias ${alias} of ${name}`);
  return 0;
}

/** `v1 100%`, or `v1 90% · v2 10%`. */
export function splitLabel(alias: Pick<AliasAnswer, 'version' | 'weights'>): string {
  const [other, weight] = Object.entries(alias.weights)[0] ?? [];
  if (other === undefined || weight === undefined) return `v${alias.version} 100%`;
  return `v${alias.version} ${formatRate(1 - weight)} · v${other} ${formatRate(weight)}`;
}

/** An alias name, checked here so a typo is a usage error, not a path the gateway cannot route. */
function aliasArg(raw: string): string {
  if (!ALIAS_NAME.test(raw)) throw usageError(`<alias> must be a lowercase letter then up to 62 lowercase letters, digits and dashes, got "${raw}"`, 'alias');
  return raw;
}

/** `--weight 3=0.1` → `{ "3": 0.1 }`. */
function parseWeight(raw: string): Record<string, number> {
  const match = /^([1-9]\d{0,9})=(\d+(?:\.\d+)?|\.\d+)$/.exec(raw);
  const weight = match ? Number(match[2]) : NaN;
  if (!match || !(weight >= 0 && weight <= 1)) throw usageError(`--weight must be M=w, a version and a share from 0 to 1 (like 3=0.1), got "${raw}"`, 'alias');
  return { [match[1]!]: weight };
}
