/**
 * `hearth rollout <name> <alias> --to N`: starts a gradual rollout and
 * watches it to its end; `hearth rollout status|pause|resume|abort <name>
 * <alias>` reads or steers the alias's rollout.
 */
import type { RolloutView } from '../../rollouts/rollout-views.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { apiError, isAbort, type HearthClient } from '../client.ts';
import { fnPath, intOption, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatRate } from '../format.ts';
import { completedLine, FINISHED, progressKey, progressLine, startedLine, statusReport, unfinishedError } from '../rollout-progress.ts';
import { escapeControls, escapeJsonOrText } from '../terminal-text.ts';

const OPTIONS = {
  to: { type: 'string', short: 't' },
  steps: { type: 'string' },
  'step-ms': { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-p99-ratio': { type: 'string' },
  'min-calls': { type: 'string' },
  detach: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const ACTIONS = ['status', 'pause', 'resume', 'abort'] as const;
type Action = (typeof ACTIONS)[number];

const POLL_MS = 1000;
/** How long the watch rides out a gateway that cannot be reached (a restart, say) before giving up. */
const UNREACHABLE_GRACE_MS = 30_000;
/** Exit code when Ctrl-C stops the watch (the rollout goes on). */
const INTERRUPTED = 130;

export const rolloutCommand: Command = {
  name: 'rollout',
  summary: 'shift an alias to a new version step by step, rolled back on errors or slow calls',
  help: `Usage: hearth rollout <name> <alias> --to N [options]

  hearth rollout <name> <alias> --to N [--steps 0.05,0.25,0.5,1] [--step-ms 60000]
                 [--max-error-rate 0.01] [--max-p99-ratio 1.5] [--min-calls 50] [--detach]
  hearth rollout status <name> <alias> [--json]
  hearth rollout pause|resume|abort <name> <alias>

Starts moving the alias's calls to version N: each step gives N that share
of the calls for --step-ms, then compares N's error rate and p99 with the
current version's over the same window, from the invocation records. A
broken guard rolls back at once (the alias goes back to its version alone);
too few calls of N hold the step; otherwise the next step starts, and after
the last one N takes every call.

While it runs, one progress line is redrawn (a line per change when not on
a terminal) until the rollout ends. Exits 0 when it completed, 1 when it
rolled back or was aborted (with the reason and the numbers). Ctrl-C stops
watching (exit 130); the rollout goes on.

status shows the alias's latest rollout: its steps, guard, reason and every
check with both versions' numbers. pause holds the weight where it is,
resume goes on, abort sends every call back to the current version.

Options:
  -t, --to <n>               the version to roll out
      --steps <w,w,...>      N's share at each step, increasing, ending at 1 (default 0.05,0.25,0.5,1)
      --step-ms <ms>         how long each step runs before it is checked (default 60000)
      --max-error-rate <r>   highest share of N's calls that may fail, 0 to 1 (default 0.01)
      --max-p99-ratio <x>    highest N p99 / current p99, at least 1 (default 1.5)
      --min-calls <n>        calls of N a check needs; fewer hold the step (default 50)
      --detach               start it and return, without watching
      --json                 print the API's answer unchanged (status, or with --detach)
`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('rollout', argv, OPTIONS, { required: ['name', 'alias'], optional: ['alias'] });
    if (positionals.length === 3) {
      const action = positionals[0]!;
      if (!(ACTIONS as readonly string[]).includes(action)) throw usageError(`unknown rollout action "${action}"; use ${ACTIONS.join(', ')}`, 'rollout');
      const startOnly = ['to', 'steps', 'step-ms', 'max-error-rate', 'max-p99-ratio', 'min-calls', 'detach'].filter((o) => values[o as keyof typeof values] !== undefined);
      if (startOnly.length > 0) throw usageError(`--${startOnly[0]} starts a rollout; it does not go with ${action}`, 'rollout');
      if (values.json && action !== 'status') throw usageError(`--json goes with status, not ${action}`, 'rollout');
      return steer(action as Action, positionals[1]!, positionals[2]!, values.json ?? false, ctx);
    }
    const [name, alias] = [positionals[0]!, positionals[1]!];
    if (values.to === undefined) {
      const hint = (ACTIONS as readonly string[]).includes(name) ? `; or hearth rollout ${name} <name> <alias>` : '';
      throw usageError(`missing --to <version>${hint}`, 'rollout');
    }
    if (values.json && !values.detach) throw usageError('--json goes with --detach (or status)', 'rollout');
    const body = startBody(values);
    const client = await ctx.client();
    const res = await client.send('POST', rolloutPath(name, alias), { json: body });
    if (!res.ok) throw await apiError(res);
    const text = await res.text();
    const view = JSON.parse(text) as RolloutView;
    if (values.json) {
      write(ctx.stdout, escapeJsonOrText(text));
      return 0;
    }
    write(ctx.stdout, startedLine(view));
    if (values.detach) {
      write(ctx.stdout, `not watching: hearth rollout status ${name} ${alias} shows how it goes`);
      return 0;
    }
    return watch(client, name, alias, view, ctx);
  },
};

const rolloutPath = (name: string, alias: string, rest = '') => fnPath(name, `/aliases/${encodeURIComponent(alias)}/rollout${rest}`);

/** The POST body from the options: only what was given (the gateway fills in its defaults). */
function startBody(values: Partial<Record<keyof typeof OPTIONS, string | boolean>>) {
  const str = (key: keyof typeof OPTIONS) => values[key] as string | undefined;
  const toVersion = intOption('rollout', 'to', str('to'), 1)!;
  const steps = str('steps') === undefined ? undefined : parseSteps(str('steps')!);
  const stepMs = intOption('rollout', 'step-ms', str('step-ms'), 1000);
  const maxErrorRate = decimalOption('max-error-rate', str('max-error-rate'), 0, 1);
  const maxP99Ratio = decimalOption('max-p99-ratio', str('max-p99-ratio'), 1, 100);
  const minCalls = intOption('rollout', 'min-calls', str('min-calls'), 1);
  const guard = {
    ...(maxErrorRate !== undefined ? { maxErrorRate } : {}),
    ...(maxP99Ratio !== undefined ? { maxP99Ratio } : {}),
    ...(minCalls !== undefined ? { minCalls } : {}),
  };
  return {
    toVersion,
    ...(steps ? { steps } : {}),
    ...(stepMs !== undefined ? { stepMs } : {}),
    ...(Object.keys(guard).length > 0 ? { guard } : {}),
  };
}

function decimalOption(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^(\d+(\.\d+)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw usageError(`--${flag} must be a number from ${min} to ${max}, got "${raw}"`, 'rollout');
  return value;
}

/** `0.05,0.25,0.5,1`: strictly increasing shares in (0, 1], the last 1, at most 20. */
function parseSteps(raw: string): number[] {
  const steps = raw.split(',').map((s) => (/^(\d+(\.\d+)?|\.\d+)$/.test(s.trim()) ? Number(s.trim()) : NaN));
  const rule = `--steps must be up to 20 increasing shares above 0, comma-separated, ending at 1 (like 0.05,0.25,0.5,1), got "${raw}"`;
  const ok = steps.length <= 20 && steps.every((s, i) => s > 0 && s <= 1 && (i === 0 || s > steps[i - 1]!)) && steps.at(-1) === 1;
  if (!ok) throw usageError(rule, 'rollout');
  return steps;
}

async function steer(action: Action, name: string, alias: string, json: boolean, ctx: CliContext): Promise<number> {
  const client = await ctx.client();
  const res = await client.send(action === 'status' ? 'GET' : 'POST', rolloutPath(name, alias, action === 'status' ? '' : `/${action}`));
  if (!res.ok) throw await apiError(res);
  const text = await res.text();
  if (json) {
    write(ctx.stdout, escapeJsonOrText(text));
    return 0;
  }
  const view = JSON.parse(text) as RolloutView;
  if (action === 'status') write(ctx.stdout, statusReport(view, Date.now()));
  else if (action === 'abort') write(ctx.stdout, `aborted rollout of ${view.alias}: v${view.fromVersion} takes every call again`);
  else write(ctx.stdout, `${action}d rollout of ${view.alias} at step ${view.stepIndex + 1}/${view.steps.length}, v${view.toVersion} at ${formatRate(view.weight)}`);
  return 0;
}

/**
 * Polls the rollout until it finishes, drawing its progress: on a terminal
 * one line redrawn in place, elsewhere a line whenever it moves.
 */
async function watch(client: HearthClient, name: string, alias: string, first: RolloutView, ctx: CliContext): Promise<number> {
  const tty = ctx.stdout.isTTY === true;
  const columns = (ctx.stdout as { columns?: number }).columns ?? 120;
  let view = first;
  let shownKey = '';
  let unreachableSince: number | null = null;
  const draw = (line: string) => {
    // Redrawn in place, a line longer than the terminal would wrap and leave its head behind.
    if (tty) ctx.stdout.write(`\r\u001b[2K${escapeControls(line).slice(0, Math.max(20, columns - 1))}`);
    else write(ctx.stdout, line);
  };
  for (;;) {
    if (tty || progressKey(view) !== shownKey) draw(progressLine(view, Date.now()));
    shownKey = progressKey(view);
    if (FINISHED.has(view.status)) break;
    if (await interrupted(POLL_MS, ctx.signal)) {
      if (tty) ctx.stdout.write('\n');
      write(ctx.stderr, `stopped watching; the rollout goes on: hearth rollout status|pause|abort ${name} ${alias}`);
      return INTERRUPTED;
    }
    try {
      view = await client.json<RolloutView>('GET', rolloutPath(name, alias), { signal: ctx.signal });
      unreachableSince = null;
    } catch (err) {
      if (isAbort(err)) continue;
      unreachableSince ??= Date.now();
      if (err instanceof CliError && err.exitCode === EXIT.unreachable && Date.now() - unreachableSince <= UNREACHABLE_GRACE_MS) continue;
      // The error goes to stderr on a line of its own, not after the redrawn one.
      if (tty) ctx.stdout.write('\n');
      throw err;
    }
  }
  if (tty) ctx.stdout.write('\n');
  if (view.status !== 'completed') throw unfinishedError(view);
  write(ctx.stdout, completedLine(view));
  return 0;
}

/** Waits `ms`; true when Ctrl-C came first. */
function interrupted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onAbort = () => done(true);
    signal.addEventListener('abort', onAbort, { once: true });
    function done(aborted: boolean) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(aborted);
    }
  });
}
