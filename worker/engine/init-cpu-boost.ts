/**
 * Full CPU while a sandbox starts and loads its handler, its own ceiling for
 * every call after (issue 16). Lambda gives a function's init phase the
 * host's CPU whatever its memory; a 128 MB sandbox here is held to half a
 * core (`cpu-limit.ts`), which made its agent's start and its handler's load
 * about twice as slow as a bare start of the same image (a require of the
 * AWS SDK: ~100 ms at half a core, ~50 ms unlimited).
 *
 * The container is created with its own ceiling, as before. Right after it
 * starts, `boost` raises the quota in its cgroup (cgroup v1
 * `cpu.cfs_quota_us`, v2 `cpu.max`: a file write, no engine request) to
 * `initCpus`; only the agent runs then, tenant code not before `init`.
 * `settle` writes the container's own quota back; the sandbox calls it when
 * init ends, or a bounded time after init began, whichever is first, so a
 * tenant's init that never ends holds the extra CPU for that long at most,
 * and always before its first invocation. A container whose cgroup cannot be
 * found or written is simply not boosted. A quota that cannot be written
 * back (the container not gone) is an error the sandbox answers by killing
 * the container.
 *
 * The engine does not know: `docker inspect` still shows the container's own
 * `NanoCpus`, which is what the cgroup holds again once settled.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { checkedCgroupLines } from './cgroup-cpu.ts';

/** A container's cgroup directory holding its CPU quota, and the cgroup version that says which files. */
export interface QuotaDir {
  version: 1 | 2;
  dir: string;
}

interface Quota {
  /** Microseconds of CPU per period; -1: no ceiling. */
  quotaUs: number;
  periodUs: number;
}

/** The places Docker's default cgroup parent puts container `id`'s CPU controller, per cgroup version and driver. */
export function defaultQuotaDirs(id: string, root = '/sys/fs/cgroup'): QuotaDir[] {
  return [
    { version: 1, dir: `${root}/cpu/docker/${id}` },
    { version: 1, dir: `${root}/cpu,cpuacct/docker/${id}` },
    { version: 1, dir: `${root}/cpu/system.slice/docker-${id}.scope` },
    { version: 2, dir: `${root}/system.slice/docker-${id}.scope` },
    { version: 2, dir: `${root}/docker/${id}` },
  ];
}

/**
 * The CPU controller's directory of the process whose `/proc/<pid>/cgroup`
 * is `text` (an engine with another `--cgroup-parent`): the `cpu` line on v1,
 * the unified line on v2. Null when neither is there or a path is not
 * absolute or climbs out (`..`).
 */
export function quotaDirFromProcCgroup(text: string, root = '/sys/fs/cgroup'): QuotaDir | null {
  let unified: string | null = null;
  for (const { controllers, path } of checkedCgroupLines(text)) {
    if (controllers.includes('cpu')) return { version: 1, dir: `${root}/${controllers.join(',')}${path === '/' ? '' : path}` };
    if (controllers.length === 0) unified = path;
  }
  return unified === null ? null : { version: 2, dir: unified === '/' ? root : `${root}${unified}` };
}

/** Parses v1's two files or v2's `cpu.max`; null when the text is not what the kernel writes. */
export function parseQuota(version: 1 | 2, texts: readonly string[]): Quota | null {
  const int = (s: string | undefined) => (s !== undefined && /^-?\d+$/.test(s.trim()) ? Number(s.trim()) : null);
  if (version === 1) {
    const quotaUs = int(texts[0]);
    const periodUs = int(texts[1]);
    return quotaUs === null || periodUs === null || periodUs <= 0 ? null : { quotaUs: quotaUs < 0 ? -1 : quotaUs, periodUs };
  }
  const [max, period] = (texts[0] ?? '').trim().split(/\s+/);
  const periodUs = int(period);
  const quotaUs = max === 'max' ? -1 : int(max);
  return quotaUs === null || periodUs === null || periodUs <= 0 ? null : { quotaUs, periodUs };
}

async function readQuota(q: QuotaDir): Promise<Quota | null> {
  const files = q.version === 1 ? ['cpu.cfs_quota_us', 'cpu.cfs_period_us'] : ['cpu.max'];
  const texts = await Promise.all(files.map((f) => readFile(`${q.dir}/${f}`, 'utf8').catch(() => null)));
  return texts.some((t) => t === null) ? null : parseQuota(q.version, texts as string[]);
}

function writeQuota(q: QuotaDir, { quotaUs, periodUs }: Quota): Promise<void> {
  if (q.version === 1) return writeFile(`${q.dir}/cpu.cfs_quota_us`, String(quotaUs));
  return writeFile(`${q.dir}/cpu.max`, `${quotaUs < 0 ? 'max' : quotaUs} ${periodUs}`);
}

export interface InitCpuBoostOptions {
  /** Cores a sandbox may use until it is settled; 0 turns boosting off. */
  initCpus: number;
  /** The text of the container's process's `/proc/<pid>/cgroup`, to find a cgroup outside Docker's default parent; null if gone. */
  procCgroup(id: string): Promise<string | null>;
  /** The cgroup file system's root (tests point it elsewhere). */
  root?: string;
}

export class InitCpuBoost {
  /** Boosted containers and the quota to write back. */
  private readonly boosted = new Map<string, { dir: QuotaDir; own: Quota }>();
  /** Which of `defaultQuotaDirs` answered last: the engine puts every container in the same place. */
  private defaultIndex: number | null = null;
  /** The parent a container's process named (another `--cgroup-parent`), tried first next time: no inspect then. */
  private learnedParent: QuotaDir | null = null;

  constructor(private readonly options: InitCpuBoostOptions) {}

  /** Raises container `id`'s ceiling to `initCpus`; false (and nothing changed) if it cannot, or its own is as high. */
  async boost(id: string): Promise<boolean> {
    if (this.options.initCpus <= 0 || this.boosted.has(id)) return false;
    const found = await this.find(id);
    if (!found) return false;
    const { dir, own } = found;
    // Unlimited already, or a ceiling at least as high: nothing to lift.
    const quotaUs = Math.round(this.options.initCpus * own.periodUs);
    if (own.quotaUs < 0 || own.quotaUs >= quotaUs) return false;
    try {
      await writeQuota(dir, { quotaUs, periodUs: own.periodUs });
    } catch {
      return false;
    }
    this.boosted.set(id, { dir, own });
    return true;
  }

  /**
   * Writes container `id`'s own quota back, if it was boosted (idempotent).
   * A container already gone is not an error; any other failure throws, and
   * the container must not run tenant code again.
   */
  async settle(id: string): Promise<void> {
    const held = this.boosted.get(id);
    if (!held) return;
    this.boosted.delete(id);
    try {
      await writeQuota(held.dir, held.own);
    } catch (err) {
      // The container is gone or going (its cgroup removed, or emptied as its last process exited).
      if (['ENOENT', 'ENODEV', 'ESRCH'].includes((err as NodeJS.ErrnoException).code ?? '')) return;
      throw err;
    }
  }

  /** Forgets a removed container. */
  forget(id: string): void {
    this.boosted.delete(id);
  }

  /** Whether `id` runs above its own ceiling now. */
  isBoosted(id: string): boolean {
    return this.boosted.has(id);
  }

  private async find(id: string): Promise<{ dir: QuotaDir; own: Quota } | null> {
    if (this.learnedParent) {
      const dir = { version: this.learnedParent.version, dir: `${this.learnedParent.dir}/${id}` };
      const own = await readQuota(dir);
      if (own) return { dir, own };
    }
    const defaults = defaultQuotaDirs(id, this.options.root);
    const order = this.defaultIndex === null ? defaults.map((_, i) => i) : [this.defaultIndex];
    for (const index of order) {
      const own = await readQuota(defaults[index]!);
      if (!own) continue;
      this.defaultIndex = index;
      return { dir: defaults[index]!, own };
    }
    const text = await this.options.procCgroup(id).catch(() => null);
    const dir = text === null ? null : quotaDirFromProcCgroup(text, this.options.root);
    const own = dir ? await readQuota(dir) : null;
    if (!dir || !own) return null;
    if (dir.dir.endsWith(`/${id}`)) this.learnedParent = { version: dir.version, dir: dir.dir.slice(0, -id.length - 1) };
    return { dir, own };
  }
}
