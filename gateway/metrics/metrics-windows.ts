/** Which rollup resolution and series bucket width serve each metrics window. */
import { badRequest } from '../errors.ts';
import type { MetricsWindow } from './metrics-view.ts';

export interface WindowPlan {
  window: MetricsWindow;
  /** Rollup resolution read, in seconds. */
  resolution: number;
  /** Width of each series point, in seconds (a multiple of the resolution). */
  bucketSeconds: number;
  /** Number of series points; the last one is the current, partial bucket. */
  points: number;
}

const PLANS: Record<MetricsWindow, Omit<WindowPlan, 'window'>> = {
  '5m': { resolution: 10, bucketSeconds: 10, points: 30 },
  '1h': { resolution: 60, bucketSeconds: 60, points: 60 },
  '24h': { resolution: 900, bucketSeconds: 900, points: 96 },
  '7d': { resolution: 3600, bucketSeconds: 3600, points: 168 },
};

export function planWindow(raw: string | undefined): WindowPlan {
  const window = (raw ?? '1h') as MetricsWindow;
  if (!Object.hasOwn(PLANS, window)) throw badRequest('InvalidParameter', 'window must be one of 5m, 1h, 24h, 7d');
  return { window, ...PLANS[window] };
}

/** Start of the first series bucket, so that `points` buckets end with the one holding `now`. */
export function windowStart(plan: WindowPlan, now: number): Date {
  const width = plan.bucketSeconds * 1000;
  return new Date(Math.floor(now / width) * width - (plan.points - 1) * width);
}
