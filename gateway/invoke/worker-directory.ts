/**
 * The gateway's view of the live workers, refreshed from their reports in
 * Redis twice a second (routing reads it on every call, so it must not wait
 * on Redis). While Redis is away, the last view is kept.
 */
import type { WorkerRegistry } from '../../worker/common/redis/worker-registry.ts';
import type { WorkerReport } from '../../worker/contract/worker-report.ts';

/** How often the view is refreshed: a newly reported worker is routed to within this long. */
export const DIRECTORY_REFRESH_MS = 500;

export class WorkerDirectory {
  private reports: WorkerReport[] = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly registry: WorkerRegistry) {
    this.timer = setInterval(() => void this.refresh(), DIRECTORY_REFRESH_MS);
    this.timer.unref();
  }

  static async open(registry: WorkerRegistry): Promise<WorkerDirectory> {
    const directory = new WorkerDirectory(registry);
    await directory.refresh();
    return directory;
  }

  current(): readonly WorkerReport[] {
    return this.reports;
  }

  async refresh(): Promise<void> {
    try {
      this.reports = await this.registry.list();
    } catch {
      // Keep the last view.
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
