/**
 * Waits on what a test's own worker can be seen doing, so that a step that
 * needs "a call is running" follows that state rather than a guessed delay.
 */
import type { WorkerService } from '../../worker/run/worker-service.ts';
import { waitFor } from './wait.ts';

/**
 * Resolves once `worker` holds exactly `busy` busy sandboxes (calls running
 * on it). The invoker releases a call's sandbox before it replies, so a
 * call that has answered no longer counts.
 */
export function waitForBusy(worker: Pick<WorkerService, 'stats'>, busy: number, timeoutMs = 10_000): Promise<void> {
  return waitFor(`${busy} busy sandbox(es) on the worker`, () => worker.stats().busy === busy, timeoutMs, 20);
}
