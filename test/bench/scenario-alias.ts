/**
 * Alias routing overhead: the same warm function called one call at a time
 * pinned to its version (`?version=1`: no alias read), through an alias
 * (`?alias=live`), through an alias that splits 10% to a second, warm
 * version (`?alias=split`), and unqualified (through `latest`). The paths
 * run interleaved in blocks that rotate order, so the machine's noise
 * falls on all of them alike; the pinned call is the baseline.
 */
import http from 'node:http';
import { httpCall, type BenchContext } from './stack.ts';
import { atMost, countBy, ratio, ratioRow, summarize, SUMMARY_HEADER, summaryRow, type ScenarioResult } from './stats.ts';

const PATHS = { pinned: '?version=1', alias: '?alias=live', split: '?alias=split', latest: '' } as const;
type PathName = keyof typeof PATHS;

export async function runAlias(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const total = ctx.quick ? 300 : 2000;
  const block = ctx.quick ? 50 : 100;
  const name = `alias-${ctx.runId}`;
  await stack.restartWorker({ HEARTH_PREWARM: '' });
  const source = 'exports.handler = async () => ({ ok: true });\n';
  await stack.deploy(name, source, { memoryMb: '128', timeoutMs: '3000' });
  await stack.deploy(name, source, { memoryMb: '128', timeoutMs: '3000', moveLatest: 'false' });
  for (const [alias, body] of [['live', { version: 1 }], ['split', { version: 1, weights: { '2': 0.1 } }]] as const) {
    const res = await fetch(`${stack.url}/v1/functions/${name}/aliases/${alias}`, { method: 'PUT', headers: stack.headers(), body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`alias ${alias} answered ${res.status}: ${await res.text()}`);
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: Record<PathName, number[]> = { pinned: [], alias: [], split: [], latest: [] };
  const kinds: string[] = [];
  let failures = 0;
  const call = async (path: PathName) => {
    const a = await httpCall(agent, `${stack.url}/v1/functions/${name}/invoke${PATHS[path]}`, { method: 'POST', headers: stack.headers(), body: '{}' });
    if (a.status !== 200) {
      failures += 1;
      return null;
    }
    kinds.push(String(a.headers['x-start-kind'] ?? 'unknown'));
    return a.ms;
  };
  try {
    // Warm-up, untimed: both versions' first containers, JIT, caches.
    for (let i = 0; i < 50; i++) for (const path of Object.keys(PATHS) as PathName[]) await call(path);
    await call('pinned');
    failures = 0;
    kinds.length = 0;
    const names = Object.keys(PATHS) as PathName[];
    const blocks = Math.ceil(total / block);
    for (let b = 0; b < blocks; b++) {
      for (let k = 0; k < names.length; k++) {
        const path = names[(b + k) % names.length]!;
        for (let i = 0; i < block; i++) {
          const ms = await call(path);
          if (ms !== null) times[path].push(ms);
        }
      }
      if ((b + 1) % 5 === 0 || b === blocks - 1) log(`alias: ${(b + 1) * block}/${blocks * block} calls on each path`);
    }
  } finally {
    agent.destroy();
  }

  const s = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)])) as Record<PathName, ReturnType<typeof summarize>>;
  result.tables.push({
    title: 'Warm sequential calls by how they name the version (ms)',
    header: SUMMARY_HEADER,
    rows: [
      summaryRow('pinned ?version=1 (no alias read)', s.pinned),
      summaryRow('alias ?alias=live', s.alias),
      summaryRow('alias with a 10% split ?alias=split', s.split),
      summaryRow('unqualified (the latest alias)', s.latest),
    ],
  });
  result.tables.push({
    title: 'Alias routing ratios',
    header: ['', 'p50', 'p99'],
    rows: [ratioRow('alias / pinned', s.alias, s.pinned), ratioRow('split alias / pinned', s.split, s.pinned), ratioRow('unqualified / pinned', s.latest, s.pinned)],
  });
  result.notes.push(`start kinds: ${JSON.stringify(countBy(kinds))}; non-200 answers: ${failures}`);
  result.targets.push(
    atMost('alias', 'p50 alias / pinned', ratio(s.alias.p50, s.pinned.p50), 1.1),
    atMost('alias', 'p50 split alias / pinned', ratio(s.split.p50, s.pinned.p50), 1.1),
  );
  result.data = {
    calls: total,
    block,
    ...s,
    ratios: {
      aliasP50: ratio(s.alias.p50, s.pinned.p50),
      splitP50: ratio(s.split.p50, s.pinned.p50),
      latestP50: ratio(s.latest.p50, s.pinned.p50),
      aliasP99: ratio(s.alias.p99, s.pinned.p99),
    },
    startKinds: countBy(kinds),
    failures,
  };
}
