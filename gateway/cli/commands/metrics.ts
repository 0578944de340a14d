/** `hearth metrics <name>`: the metrics API's numbers as a terminal table. */
import { METRICS_WINDOWS, type FunctionMetrics, type FunctionMetricsReport, type Percentiles } from '../../metrics/metrics-view.ts';
import { usageError } from '../cli-error.ts';
import { apiError } from '../client.ts';
import { fnPath, intOption, parseCommandArgs, write, type Command } from '../command.ts';
import { decimals2, formatMs, formatRate, formatTime, sparkline } from '../format.ts';
import { formatTable } from '../table.ts';
import { escapeJsonOrText } from '../terminal-text.ts';

const WINDOWS: readonly string[] = METRICS_WINDOWS;

const OPTIONS = {
  window: { type: 'string', short: 'w' },
  version: { type: 'string', short: 'v' },
  json: { type: 'boolean' },
} as const;

export const metricsCommand: Command = {
  name: 'metrics',
  summary: 'invocations, errors, cold starts, latency and usage over a window',
  help: `Usage: hearth metrics <name> [options]

Shows invocations (with a sparkline per time bucket), errors by code,
throttles, cold starts and their rate, latency percentiles for cold,
pre-warmed and warm starts, init and queue-wait percentiles, peak
concurrency, billed milliseconds and GB-seconds, then the same window
split by version (calls, errors and their rate, cold starts, latency p50 and
p99, handler p99): what a canary did next to the version it may replace.
Numbers are the API's, with milliseconds shown to at most 2 decimals.

Options:
  -w, --window <w>    ${WINDOWS.join(' | ')} (default 1h)
  -v, --version <n>   only this version's calls
      --json          print the API's answer unchanged
`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('metrics', argv, OPTIONS, { required: ['name'] });
    if (values.window !== undefined && !WINDOWS.includes(values.window)) {
      throw usageError(`--window must be one of ${WINDOWS.join(', ')}, got "${values.window}"`, 'metrics');
    }
    const version = intOption('metrics', 'version', values.version, 1);
    const client = await ctx.client();
    const path = fnPath(positionals[0]!, '/metrics');
    const query = { window: values.window, version: version?.toString() };
    if (values.json) {
      const res = await client.send('GET', path, { query });
      if (!res.ok) throw await apiError(res);
      // The same JSON value, its control characters \u-escaped (write() would make them invalid \x escapes).
      write(ctx.stdout, escapeJsonOrText(await res.text()));
      return 0;
    }
    write(ctx.stdout, renderMetrics(await client.json<FunctionMetricsReport>('GET', path, { query })));
    return 0;
  },
};

/** The whole report, as printed (a gateway from before versions were split sends no `versions`). */
export function renderMetrics(m: FunctionMetrics & Partial<Pick<FunctionMetricsReport, 'version' | 'versions'>>): string {
  const byCode = Object.entries(m.errors.byCode).map(([code, n]) => `${code} ${n}`).join(', ');
  const kinds = m.startKinds;
  const out: string[] = [];
  const which = m.version !== undefined && m.version !== null ? ` version ${m.version}` : '';
  out.push(`${m.function ?? 'all functions'}${which} · last ${m.window} · ${formatTime(m.from)} → ${formatTime(m.to)} UTC`);
  out.push('');
  out.push(
    formatTable(
      [{ header: '' }, { header: '', align: 'right' }, { header: '' }],
      [
        ['invocations', m.invocations, sparkline(m.series.map((p) => p.invocations))],
        ['', '', `one per ${bucketLabel(m.bucketSeconds)}, oldest first`],
        ['errors', m.errors.total, byCode],
        ['throttles', m.throttles, ''],
        ['cold starts', m.coldStarts.count, `rate ${formatRate(m.coldStarts.rate)} (cold ${kinds.cold}, pre-warmed ${kinds.prewarmed}, warm ${kinds.warm})`],
        ['peak concurrency', m.peakConcurrency, ''],
        ['billed ms', m.usage.billedMs, ''],
        ['GB-seconds', String(m.usage.gbSeconds), ''],
      ],
      // A 7d sparkline is 168 characters, and every error code is listed: nothing here is cut.
      { header: false, maxCellWidth: 1000 },
    ).trimEnd(),
  );
  out.push('');
  const row = (label: string, p: Percentiles) => [label, p.count, formatMs(p.p50), formatMs(p.p95), formatMs(p.p99)];
  out.push(
    formatTable(
      ['ms', 'count', 'p50', 'p95', 'p99'],
      [
        row('latency cold', m.latencyMs.cold),
        row('latency pre-warmed', m.latencyMs.prewarmed),
        row('latency warm', m.latencyMs.warm),
        row('latency all', m.latencyMs.all),
        row('handler duration', m.durationMs),
        row('init', m.initMs),
        row('queue wait', m.queueWaitMs),
      ],
    ).trimEnd(),
  );
  if (m.versions) out.push('', versionsTable(m.versions));
  return out.join('\n');
}

function bucketLabel(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'hour' : `${seconds / 3600} h`;
  if (seconds % 60 === 0) return seconds === 60 ? 'minute' : `${seconds / 60} min`;
  return `${decimals2(seconds)} s`;
}

/** The window split by version, newest first. */
function versionsTable(versions: FunctionMetricsReport['versions']): string {
  if (versions.length === 0) return 'by version: no calls in the window';
  const rows = versions.map((v) => [
    `v${v.version}`,
    v.invocations,
    v.errors,
    formatRate(v.errorRate),
    v.throttles,
    v.coldStarts,
    formatMs(v.p50Ms),
    formatMs(v.p99Ms),
    formatMs(v.durationP99Ms),
    String(v.gbSeconds),
  ]);
  const num = (header: string) => ({ header, align: 'right' as const });
  return formatTable(
    ['BY VERSION', num('CALLS'), num('ERRORS'), num('ERROR RATE'), num('THROTTLED'), num('COLD'), num('P50 MS'), num('P99 MS'), num('HANDLER P99'), num('GB-S')],
    rows,
  ).trimEnd();
}
