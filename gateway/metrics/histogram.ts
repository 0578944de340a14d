/**
 * The log-scale histogram shared with Postgres (`hearth_bucket` in
 * migrations/0003): bucket 0 holds values up to 0.05 ms, bucket i ≥ 1 holds
 * (0.05·1.15^(i−1), 0.05·1.15^i] ms, the last one everything above ~930 s.
 * A percentile read from it is within ±7.5% of the true value.
 */
const BASE_MS = 0.05;
const RATIO = 1.15;
/** The value a bucket stands for: its geometric middle. */
export function representative(bucket: number): number {
  if (bucket === 0) return BASE_MS;
  return BASE_MS * RATIO ** (bucket - 0.5);
}

/** Element-wise sum, any lengths. */
export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length)).fill(0);
  for (let i = 0; i < a.length; i++) out[i]! += a[i]!;
  for (let i = 0; i < b.length; i++) out[i]! += b[i]!;
  return out;
}

export function countOf(histogram: readonly number[]): number {
  let n = 0;
  for (const c of histogram) n += c;
  return n;
}

/** The q-quantile (0..1) in ms, rounded to 3 decimals; null for an empty histogram. */
export function quantile(histogram: readonly number[], q: number): number | null {
  const total = countOf(histogram);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return Math.round(representative(i) * 1000) / 1000;
  }
  return Math.round(representative(histogram.length - 1) * 1000) / 1000;
}
