/**
 * `npm run soak -- [--minutes 30] [--window-s 300] [--rate N] [--load-share 0.7]
 *   [--ramp-s 20] [--mix sync=2,async=1,http=1] [--functions 50] [--python 4]
 *   [--churn-every-s 20] [--trigger-period-s 10] [--report PATH]`
 *
 * A steady load on an isolated platform for a long while (see soak-run.ts),
 * a table per window and the targets on stdout, the JSON report at
 * `--report` (default `test-artifacts/soak/soak-<time>.json`). Exits 1 when
 * a target fails.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderReport, runSoak } from './soak-run.ts';
import { ROOT } from './stack.ts';
import type { Mix } from './soak-load.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    minutes: { type: 'string', default: '30' },
    'window-s': { type: 'string', default: '300' },
    rate: { type: 'string' },
    'load-share': { type: 'string', default: '0.7' },
    'ramp-s': { type: 'string', default: '20' },
    mix: { type: 'string', default: 'sync=2,async=1,http=1' },
    functions: { type: 'string', default: '50' },
    python: { type: 'string', default: '4' },
    'churn-every-s': { type: 'string', default: '20' },
    'trigger-period-s': { type: 'string', default: '10' },
    report: { type: 'string' },
  },
  strict: true,
});

const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number; got "${v}"`);
  return n;
};
const mix: Mix = { sync: 0, async: 0, http: 0 };
for (const part of values.mix.split(',')) {
  const [k, v] = part.split('=');
  if (!k || !(k in mix)) throw new Error(`--mix takes sync=N,async=N,http=N; got "${values.mix}"`);
  mix[k as keyof Mix] = Number(v);
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const t0 = Date.now();
const report = await runSoak({
  minutes: num('minutes', values.minutes),
  windowS: num('window-s', values['window-s']),
  ...(values.rate !== undefined ? { rate: num('rate', values.rate) } : {}),
  loadShare: num('load-share', values['load-share']),
  rampSeconds: num('ramp-s', values['ramp-s']),
  mix,
  functions: num('functions', values.functions),
  python: Number(values.python),
  churnEveryS: num('churn-every-s', values['churn-every-s']),
  triggerPeriodS: num('trigger-period-s', values['trigger-period-s']),
  database: 'hearth_soak',
  logsDir: join(ROOT, 'test-artifacts', 'soak', 'logs'),
  reportPath: values.report ?? join(ROOT, 'test-artifacts', 'soak', `soak-${stamp}.json`),
  log: (line) => process.stderr.write(`[soak ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${line}\n`),
});
console.log(renderReport(report));
console.log(`\nreport: ${values.report ?? 'test-artifacts/soak/'}`);
process.exit(report.targets.some((t) => t.pass === false) ? 1 : 0);
