/** How numbers, sizes and times read in the terminal. */

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** Up to 2 decimals, no trailing zeros: 12, 12.5, 12.35. */
export function decimals2(n: number): string {
  return String(Number(n.toFixed(2)));
}

/** Milliseconds with up to 2 decimals; "–" when there were no samples. */
export function formatMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '–' : decimals2(ms);
}

/** A 0..1 rate as a percentage with up to 2 decimals. */
export function formatRate(rate: number): string {
  return `${decimals2(rate * 100)}%`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** ISO time as `YYYY-MM-DD HH:MM:SS` (UTC). */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, '');
}

/**
 * One character per value: "▁" for zero, then "▂" to "█" in proportion to
 * the largest value, so any non-zero bucket stands out from an idle one.
 */
export function sparkline(values: readonly number[]): string {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return values
    .map((v) => {
      if (v <= 0 || max === 0) return BLOCKS[0];
      return BLOCKS[1 + Math.round((v / max) * (BLOCKS.length - 2))];
    })
    .join('');
}
