/**
 * The trigger chaos run's view of its triggers through the public API: put,
 * pause, read a trigger's status from whichever gateway answers (one may
 * just have been killed), and a watcher that notes every change of a
 * trigger's state or holder in the run's timeline — the evidence that ties
 * a message recorded twice to the fault that caused it.
 */
import { sleep } from '../helpers/wait.ts';
import type { ChaosStack } from './chaos-stack.ts';

export interface TriggerStatusView {
  state: string;
  holder: string | null;
  lastError: { message: string; at: number } | null;
  batches: number;
  messages: number;
  failures: number;
  lag: number | null;
}

/** The triggers API of the stack's gateways, with the stack's key. */
export class TriggerApi {
  constructor(
    private readonly stack: ChaosStack,
    readonly functionName: string,
  ) {}

  /** `PUT /v1/functions/{name}/triggers/{trigger}`; throws unless 200/201. */
  async put(trigger: string, body: Record<string, unknown>): Promise<void> {
    const res = await this.call('PUT', trigger, body);
    if (res.status !== 201 && res.status !== 200) throw new Error(`PUT trigger ${trigger} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }

  /** Pauses or resumes (`PATCH {enabled}`). */
  async setEnabled(trigger: string, enabled: boolean): Promise<void> {
    const res = await this.call('PATCH', trigger, { enabled });
    if (res.status !== 200) throw new Error(`PATCH trigger ${trigger} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }

  /** The trigger's status; `unreadable` when it is enabled yet shown idle with no holder (the status board is in the platform's Redis, which may be away). */
  async status(trigger: string): Promise<TriggerStatusView & { unreadable: boolean }> {
    const res = await this.call('GET', trigger);
    if (res.status !== 200) throw new Error(`GET trigger ${trigger} answered ${res.status}: ${res.text.slice(0, 300)}`);
    const view = JSON.parse(res.text) as { enabled: boolean; status: TriggerStatusView };
    return { ...view.status, unreadable: view.enabled && view.status.state === 'idle' && view.status.holder === null };
  }

  async remove(trigger: string): Promise<void> {
    await this.call('DELETE', trigger).catch(() => {});
  }

  /** The first gateway that answers at all (a killed one refuses the connection). */
  private async call(method: string, trigger: string, body?: unknown): Promise<{ status: number; text: string }> {
    let last: unknown = null;
    for (const name of this.stack.gatewayNames) {
      try {
        const res = await fetch(`${this.stack.gatewayUrl(name)}/v1/functions/${this.functionName}/triggers/${trigger}`, {
          method,
          headers: this.stack.headers(body !== undefined),
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(15_000),
        });
        return { status: res.status, text: await res.text() };
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no gateway answered ${method} ${trigger}: ${(last as Error)?.message}`);
  }
}

/**
 * Polls each trigger's status every second and calls `note` when its state
 * or holder changes (the holder as the gateway's name, from its pid), or a
 * new error shows. `latest` keeps the last status read.
 */
export class TriggerWatcher {
  readonly latest = new Map<string, TriggerStatusView>();
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: TriggerApi,
    private readonly stack: ChaosStack,
    private readonly triggers: readonly string[],
    private readonly note: (line: string) => void,
  ) {}

  /** The gateway name a holder string (`host-pid-xxxxxx`) belongs to, or the string itself. */
  holderName(holder: string | null): string {
    if (!holder) return '-';
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(holder)?.[1]);
    for (const [name, p] of this.stack.gatewayPids()) if (p === pid) return name;
    return `${holder} (not running)`;
  }

  start(): void {
    this.done = (async () => {
      while (!this.stopped) {
        for (const trigger of this.triggers) {
          const now = await this.api.status(trigger).catch(() => null);
          if (!now || now.unreadable) continue;
          const before = this.latest.get(trigger);
          this.latest.set(trigger, now);
          const holder = this.holderName(now.holder);
          if (!before || before.state !== now.state || before.holder !== now.holder) {
            const why = now.state === 'error' && now.lastError ? `: ${now.lastError.message.slice(0, 160)}` : '';
            this.note(`trigger ${trigger}: ${now.state} on ${holder}${why}`);
          } else if (now.batches < before.batches) {
            // Counters start again at 0 when a runner starts: the source was closed and opened again (lease lost and taken back, or reopened).
            this.note(`trigger ${trigger}: its runner started again on ${holder} (counters reset: ${before.batches} → ${now.batches} batches)`);
          } else if (now.lastError && now.lastError.at !== before.lastError?.at && now.state !== 'idle') {
            this.note(`trigger ${trigger}: error seen while ${now.state}: ${now.lastError.message.slice(0, 160)}`);
          }
        }
        await sleep(1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
