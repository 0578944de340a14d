/**
 * A realistic dependency-heavy function: the AWS SDK v3 S3 client installed
 * from the npm registry (thousands of files in node_modules, tens of MB),
 * required at module load. Measured side by side in one run: the deploy of
 * its zip (a changed tag file each time, so every deploy is new content:
 * parse, canonical pack, store), its cold first call (a memory size no
 * pre-warmed class holds) and its pre-warmed first call, against a bare
 * `node -e "require(...)"` of the same tree on the host. Targets: pre-warmed
 * first call ≤ bare require + 60 ms; deploy p50 ≤ 0.5 s.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { zipOf, type FixtureFile } from '../helpers/code-fixtures.ts';
import { waitUntil } from '../helpers/wait.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import type { BenchContext } from './stack.ts';
import { atMost, breakdownOf, fmt, summarize, SUMMARY_HEADER, summaryRow, type ScenarioResult, type TimedCall } from './stats.ts';

const run = promisify(execFile);
const PACKAGE = '@aws-sdk/client-s3@3';
const HANDLER = `const { S3Client, ListBucketsCommand } = require('@aws-sdk/client-s3');
const client = new S3Client({ region: 'us-east-1' });
exports.handler = async () => ({ ok: typeof client.send === 'function' && typeof ListBucketsCommand === 'function' });
`;

/** Every file under `dir`, as fixture entries relative to it. */
function filesUnder(dir: string, root = dir, out: FixtureFile[] = []): FixtureFile[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(path, root, out);
    else if (entry.isFile()) out.push({ path: relative(root, path), data: readFileSync(path), mode: statSync(path).mode & 0o777 });
  }
  return out;
}

export async function runDeps(ctx: BenchContext, result: ScenarioResult): Promise<void> {
  const { stack, log } = ctx;
  const samples = ctx.quick ? 4 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-deps-'));
  try {
    log(`deps: npm install ${PACKAGE} (from the registry)`);
    writeFileSync(join(dir, 'package.json'), '{"name":"deps-bench","version":"1.0.0","private":true}');
    try {
      await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--no-package-lock', PACKAGE], { cwd: dir, timeout: 300_000 });
    } catch (err) {
      result.notes.push(`npm install ${PACKAGE} failed (no registry?): ${String(err).slice(0, 200)}; scenario skipped`);
      return;
    }
    writeFileSync(join(dir, 'index.js'), HANDLER);
    const files = filesUnder(dir).filter((f) => f.path !== 'package.json');
    const unpacked = files.reduce((n, f) => n + (f.data as Buffer).length, 0);
    const zipFor = (tag: string) => zipOf([...files, { path: 'tag.txt', data: tag }]);
    const size = (await zipFor('size')).length;
    result.notes.push(`${PACKAGE}: ${files.length} files, ${fmt(unpacked / 2 ** 20)} MiB unpacked, zip ${fmt(size / 2 ** 20)} MiB`);

    // Bare: a fresh node process requiring the same tree, wall time (node's own start included, as a cold container's).
    const bare: number[] = [];
    for (let i = 0; i < samples + 1; i++) {
      const t = performance.now();
      await run(process.execPath, ['-e', `require(${JSON.stringify(join(dir, 'index.js'))})`]);
      if (i > 0) bare.push(performance.now() - t);
    }
    const bareNoop: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await run(process.execPath, ['-e', '0']);
      bareNoop.push(performance.now() - t);
    }

    await stack.restartWorker({ HEARTH_PREWARM: 'nodejs20:128=2' });
    const prewarmedIdle = async () =>
      (await stack.docker.listContainers({ filters: { label: [`${SANDBOX_LABELS.prewarmed}=true`, `${SANDBOX_LABELS.worker}=${stack.workerId}`], status: ['running', 'paused'] } })).length;

    const deployMs: number[] = [];
    const first = { cold: [] as number[], prewarmed: [] as number[], prefetched: [] as number[] };
    const timed = { cold: [] as TimedCall[], prewarmed: [] as TimedCall[], prefetched: [] as TimedCall[] };
    const prefetchMs: number[] = [];
    const kinds: string[] = [];
    for (let i = 0; i < samples; i++) {
      // prefetched: pre-warmed too, but called once the worker has unpacked the deploy's code (as a call seconds after a deploy finds it).
      for (const kind of ['prewarmed', 'cold', 'prefetched'] as const) {
        const name = `deps-${ctx.runId}-${kind}-${i}`;
        const zip = await zipFor(`${name} ${Date.now()}`);
        const form = new FormData();
        form.append('code', new Blob([zip]), 'function.zip');
        // 256 MB: no pre-warmed class of that size, so the first call starts a container.
        for (const [k, v] of Object.entries({ runtime: 'nodejs20', handler: 'index.handler', memoryMb: kind === 'cold' ? '256' : '128', timeoutMs: '10000' })) form.append(k, v);
        if (kind !== 'cold' && !(await waitUntil(async () => (await prewarmedIdle()) >= 2, 15_000, 50))) result.notes.push(`sample ${i}: pre-warmed pool not full within 15 s`);
        const t = performance.now();
        const res = await fetch(`${stack.url}/v1/functions/${name}`, { method: 'PUT', headers: stack.headers(false), body: form });
        deployMs.push(performance.now() - t);
        if (res.status !== 201) throw new Error(`deploy of ${name} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
        if (kind === 'prefetched') {
          const sha256 = ((await res.json()) as { latest: { codeSha256: string } }).latest.codeSha256;
          const unpacked = join(stack.stateDir, 'worker', 'code', sha256, 'index.js');
          if (!(await waitUntil(() => existsSync(unpacked), 15_000, 10))) result.notes.push(`sample ${i}: code not prefetched within 15 s`);
          prefetchMs.push(performance.now() - t);
        }
        const answer = await stack.invoke(name, {});
        if (answer.status !== 200 || !answer.body.includes('true')) throw new Error(`first call of ${name} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        first[kind].push(answer.ms);
        timed[kind].push({ id: String(answer.headers['x-invocation-id']), ms: answer.ms, sentAt: answer.sentAt, receivedAt: answer.receivedAt });
        kinds.push(`${kind}:${answer.headers['x-start-kind']}`);
        await stack.deleteFunction(name);
      }
      log(`deps ${i + 1}/${samples}: deploy ${fmt(deployMs.at(-3))} ms, prewarmed first call ${fmt(first.prewarmed.at(-1))} ms, once prefetched ${fmt(first.prefetched.at(-1))} ms, cold ${fmt(first.cold.at(-1))} ms, bare require ${fmt(bare[i])} ms`);
    }

    const [d, pw, cold, b, noop] = [summarize(deployMs), summarize(first.prewarmed), summarize(first.cold), summarize(bare), summarize(bareNoop)];
    const [pf, pfWait] = [summarize(first.prefetched), summarize(prefetchMs)];
    result.tables.push({
      title: `Dependency-heavy function (${PACKAGE}, ${files.length} files, zip ${fmt(size / 2 ** 20)} MiB), ms`,
      header: SUMMARY_HEADER,
      rows: [
        summaryRow('deploy of its zip', d),
        summaryRow('pre-warmed first call', pw),
        summaryRow('deploy answered → code unpacked on the worker', pfWait),
        summaryRow('pre-warmed first call, code prefetched', pf),
        summaryRow('cold first call (256 MB)', cold),
        summaryRow('bare node -e require(...)', b),
        summaryRow('bare node -e 0', noop),
      ],
    });
    for (const kind of ['prewarmed', 'prefetched', 'cold'] as const) result.tables.push((await breakdownOf(stack, `Dependency-heavy ${kind} first call: where the time goes`, timed[kind])).table);
    const counts: Record<string, number> = {};
    for (const k of kinds) counts[k] = (counts[k] ?? 0) + 1;
    result.notes.push(`start kinds: ${JSON.stringify(counts)}`);
    result.targets.push(
      atMost('deps', 'pre-warmed first call p50 − bare require p50', pw.p50 - b.p50, 60, 'ms'),
      atMost('deps', 'same, code prefetched: p50 − bare require p50', pf.p50 - b.p50, 60, 'ms'),
      atMost('deps', 'deploy of the zip p50', d.p50, 500, 'ms'),
    );
    result.data = { files: files.length, unpackedBytes: unpacked, zipBytes: size, deployMs, prefetchMs, first, bare, bareNoop, kinds: counts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
