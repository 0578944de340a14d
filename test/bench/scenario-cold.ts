/**
 * Cold start: the first call of a freshly deployed function, with nothing
 * warm and no pre-warmed containers (worker started with `HEARTH_PREWARM=`),
 * against a bare container start of the same image. Samples alternate
 * (baseline, platform, platform, baseline, …) so machine noise hits both.
 * nodejs20 carries the target; python3, provided (the C bootstrap) and
 * java17 are measured beside it, each against a bare start of its own image
 * wired like a sandbox, when this machine has built that image; python3
 * carries the same goal against that bare start.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { JDK_HOME } from '../../runtime-images/java17/jre-build.ts';
import { bootstrapZip } from '../fixtures/provided/build-bootstraps.ts';
import { zipOf } from '../helpers/code-fixtures.ts';
import { BaselineNetwork, SocketBaseline, bareColdStart, imageExists, socketServerFor } from './baselines.ts';
import { ROOT, type BenchContext } from './stack.ts';
import {
  atMost,
  breakdownOf,
  countBy,
  fmt,
  ratio,
  ratioRow,
  summarize,
  SUMMARY_HEADER,
  summaryRow,
  type ScenarioResult,
  type Summary,
  type TimedCall,
} from './stats.ts';

/** Each deploy gets different bytes, so each cold start also fetches and unpacks its code, as after a real deploy. */
export function noopSource(tag: string): string {
  return `// ${tag}\nexports.handler = async () => ({ ok: true });\n`;
}

/** A no-op function of one runtime: its handler and, per deploy, code with bytes of its own. */
export interface BenchFunction {
  runtime: RuntimeName;
  handler: string;
  code(tag: string): Promise<{ bytes: Buffer; filename: string }>;
}

/** The runtimes measured beside nodejs20, in this order. */
export const OTHER_RUNTIMES = ['python3', 'provided', 'java17'] as const satisfies readonly RuntimeName[];

const JAVA_HANDLER = 'package example;\nimport java.util.Map;\npublic class Handler {\n  public Map<String, Object> handleRequest(Map<String, Object> event) { return Map.of("ok", true); }\n}\n';
let javaHandlerClass: Promise<Buffer> | undefined;
/** example/Handler.class (a POJO handler), compiled once with the JDK the java17 image is made from. */
function compileJavaHandler(): Promise<Buffer> {
  javaHandlerClass ??= (async () => {
    const dir = join(ROOT, 'node_modules', '.cache', 'hearth-bench-java', 'handler');
    await mkdir(join(dir, 'example'), { recursive: true });
    await writeFile(join(dir, 'example', 'Handler.java'), JAVA_HANDLER);
    await new Promise<void>((resolve, reject) => {
      const javac = spawn(join(JDK_HOME, 'bin', 'javac'), ['--release', '17', '-d', dir, join(dir, 'example', 'Handler.java')], { stdio: 'inherit' });
      javac.once('error', reject);
      javac.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`javac exited ${code}`))));
    });
    return readFile(join(dir, 'example', 'Handler.class'));
  })();
  return javaHandlerClass;
}

export const BENCH_FUNCTIONS: Record<RuntimeName, BenchFunction> = {
  nodejs20: { runtime: 'nodejs20', handler: 'index.handler', code: async (tag) => ({ bytes: Buffer.from(noopSource(tag)), filename: 'index.js' }) },
  python3: {
    runtime: 'python3',
    handler: 'main.handler',
    code: async (tag) => ({ bytes: Buffer.from(`# ${tag}\ndef handler(event, context):\n    return {"ok": True}\n`), filename: 'main.py' }),
  },
  provided: {
    runtime: 'provided',
    handler: 'bootstrap',
    code: async (tag) => ({ bytes: await bootstrapZip('c', [{ path: 'tag.txt', data: tag }]), filename: 'function.zip' }),
  },
  java17: {
    runtime: 'java17',
    handler: 'example.Handler::handleRequest',
    code: async (tag) => ({
      bytes: await zipOf([{ path: 'example/Handler.class', data: await compileJavaHandler() }, { path: 'tag.txt', data: tag }]),
      filename: 'function.zip',
    }),
  },
};

/**
 * The other runtimes whose image this engine has; each one that is absent
 * is logged (`java17: not built`) and noted, and skipped.
 */
export async function availableRuntimes(ctx: BenchContext, notes: string[]): Promise<RuntimeName[]> {
  const found: RuntimeName[] = [];
  for (const runtime of OTHER_RUNTIMES) {
    if (await imageExists(ctx.stack.docker, runtime)) found.push(runtime);
    else {
      ctx.log(`${runtime}: not built`);
      notes.push(`${runtime}: not built (no image on this engine), skipped`);
    }
  }
  return found;
}

/** PUT of `fn`'s code with fresh bytes, through the public API (nodejs20 through the stack's own deploy). */
export async function deployFunction(ctx: BenchContext, name: string, fn: BenchFunction): Promise<void> {
  const tag = `${name} ${Date.now()}`;
  const fields = { memoryMb: '128', timeoutMs: '3000' };
  if (fn.runtime === 'nodejs20') {
    await ctx.stack.deploy(name, noopSource(tag), fields);
    return;
  }
  const { bytes, filename } = await fn.code(tag);
  const form = new FormData();
  form.append('code', new Blob([bytes]), filename);
  for (const [k, v] of Object.entries({ runtime: fn.runtime, handler: fn.handler, ...fields })) form.append(k, v);
  const res = await fetch(`${ctx.stack.url}/v1/functions/${name}`, { method: 'PUT', headers: ctx.stack.headers(false), body: form });
  if (res.status !== 201) throw new Error(`deploy of ${name} (${fn.runtime}) answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

/** Bare sandbox-wired cold start p50 of each runtime's image, left by the cold scenario for the prewarm one. */
export const bareSocketP50 = new Map<RuntimeName, number>();

/** Deploys `name` afresh (a nodejs20 no-op unless `fn` says otherwise) and makes its first call; throws unless it answers 200. */
export async function deployAndCallOnce(ctx: BenchContext, name: string, fn: BenchFunction = BENCH_FUNCTIONS.nodejs20): Promise<TimedCall & { startKind: string }> {
  await deployFunction(ctx, name, fn);
  const answer = await ctx.stack.invoke(name, {});
  if (answer.status !== 200) throw new Error(`first call of ${name} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return {
    id: String(answer.headers['x-invocation-id']),
    startKind: String(answer.headers['x-start-kind'] ?? 'unknown'),
    ms: answer.ms,
    sentAt: answer.sentAt,
    receivedAt: answer.receivedAt,
  };
}

type FirstCall = TimedCall & { startKind: string };

/** One other runtime's side of the cold scenario: its bare sandbox-wired start and the platform's first calls. */
interface RuntimeSeries {
  runtime: RuntimeName;
  socket: SocketBaseline;
  bare: number[];
  platform: FirstCall[];
}

export async function runCold(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const samples = ctx.quick ? 5 : 20;
  await stack.restartWorker({ HEARTH_PREWARM: '' });
  const others = await availableRuntimes(ctx, result.notes);
  const net = await BaselineNetwork.open(stack.docker);
  const socket = await SocketBaseline.open(stack.docker);
  const series: RuntimeSeries[] = [];
  const bare: number[] = [];
  const bareSocket: number[] = [];
  const platform: FirstCall[] = [];
  try {
    for (const runtime of others) series.push({ runtime, socket: await SocketBaseline.open(stack.docker, await socketServerFor(runtime)), bare: [], platform: [] });
    // One untimed round of each: first-use costs (connections, page cache, a compile) are not cold starts.
    await bareColdStart(net);
    await socket.coldStart();
    await deployAndCallOnce(ctx, `cold-${ctx.runId}-warmup`);
    for (const s of series) {
      await s.socket.coldStart();
      await deployAndCallOnce(ctx, `cold-${ctx.runId}-${s.runtime}-warmup`, BENCH_FUNCTIONS[s.runtime]);
    }
    for (let i = 0; i < samples; i++) {
      const steps = [
        async () => bare.push(await bareColdStart(net)),
        async () => platform.push(await deployAndCallOnce(ctx, `cold-${ctx.runId}-${i}`)),
        async () => bareSocket.push(await socket.coldStart()),
        ...series.flatMap((s) => [
          async () => s.platform.push(await deployAndCallOnce(ctx, `cold-${ctx.runId}-${s.runtime}-${i}`, BENCH_FUNCTIONS[s.runtime])),
          async () => s.bare.push(await s.socket.coldStart()),
        ]),
      ];
      // Rotate the order so no path always runs right after another.
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
      const more = series.map((s) => `, ${s.runtime} ${fmt(s.platform.at(-1)?.ms)} ms (bare ${fmt(s.bare.at(-1))})`).join('');
      log(`cold ${i + 1}/${samples}: bare ${fmt(bare.at(-1))} ms, bare no-network ${fmt(bareSocket.at(-1))} ms, platform ${fmt(platform.at(-1)?.ms)} ms (${platform.at(-1)?.startKind})${more}`);
    }
  } finally {
    await net.close();
    await socket.close();
    for (const s of series) await s.socket.close();
  }
  const b = summarize(bare);
  const bs = summarize(bareSocket);
  const p = summarize(platform.map((c) => c.ms));
  ctx.shared.coldBaselineP50 = b.p50;
  const kinds = countBy(platform.map((c) => c.startKind));
  result.tables.push({
    title: 'Cold start: first call after a deploy vs bare container start + first HTTP answer (ms)',
    header: SUMMARY_HEADER,
    rows: [
      summaryRow('bare: create+start+HTTP, bridge network', b),
      summaryRow('bare: no network, HTTP on a Unix socket', bs),
      summaryRow('platform first call (sync invoke)', p),
    ],
  });
  result.tables.push({
    title: 'Cold start ratios (platform / bare)',
    header: ['', 'p50', 'p99'],
    rows: [
      ratioRow('platform / bare (bridge): the target', p, b),
      ratioRow('platform / bare (no network, socket)', p, bs),
    ],
  });
  const split = await breakdownOf(stack, 'Cold start: where the platform time goes', platform);
  result.tables.push(split.table);
  result.notes.push(`start kinds reported by the platform: ${JSON.stringify(kinds)} (all should be "cold")`);
  if ((kinds.cold ?? 0) !== platform.length) result.notes.push('some first calls were not cold: the numbers above mix start kinds');
  result.targets.push(atMost('cold', 'first call p50 / bare start p50', ratio(p.p50, b.p50), 1.1));
  bareSocketP50.set('nodejs20', bs.p50);
  const perRuntime: Record<string, unknown> = {};
  const rows = [runtimeRow('nodejs20', bs, p)];
  for (const s of series) {
    const sb = summarize(s.bare);
    const sp = summarize(s.platform.map((c) => c.ms));
    bareSocketP50.set(s.runtime, sb.p50);
    rows.push(runtimeRow(s.runtime, sb, sp));
    const sKinds = countBy(s.platform.map((c) => c.startKind));
    if ((sKinds.cold ?? 0) !== s.platform.length) result.notes.push(`${s.runtime}: some first calls were not cold: ${JSON.stringify(sKinds)}`);
    // nodejs20's goal; python3 has no bridge-network bare start, so its own sandbox-wired one (the stricter baseline) stands in.
    if (s.runtime === 'python3') result.targets.push(atMost('cold', 'python3 first call p50 / own bare sandbox-wired p50', ratio(sp.p50, sb.p50), 1.1));
    const sSplit = await breakdownOf(stack, `Cold start, ${s.runtime}: where the platform time goes`, s.platform);
    result.tables.push(sSplit.table);
    perRuntime[s.runtime] = { bareNoNetwork: { summary: sb, samples: s.bare }, platform: { summary: sp, samples: s.platform }, startKinds: sKinds, breakdown: sSplit.data };
  }
  result.tables.push({
    title: 'Cold start per runtime: platform first call vs a bare start of the same image wired like a sandbox (no network, Unix socket) (ms)',
    header: ['runtime', 'bare p50', 'bare p99', 'platform p50', 'platform p99', 'platform / bare p50', 'p99'],
    rows,
  });
  result.data = {
    samples,
    bare: { summary: b, samples: bare },
    bareNoNetwork: { summary: bs, samples: bareSocket },
    platform: { summary: p, samples: platform },
    startKinds: kinds,
    breakdown: split.data,
    runtimes: perRuntime,
  };
}

function runtimeRow(runtime: string, bare: Summary, platform: Summary): string[] {
  return [runtime, fmt(bare.p50), fmt(bare.p99), fmt(platform.p50), fmt(platform.p99), fmt(ratio(platform.p50, bare.p50), 3), fmt(ratio(platform.p99, bare.p99), 3)];
}
