/**
 * The worker's local copy of function code, one directory per content hash.
 * Code is immutable per hash, so a directory once unpacked is reused by every
 * sandbox of every version that shares it and never needs invalidating.
 */
import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { extractCode } from './extract-code.ts';

/** Where code archives come from (the durable store). */
export interface CodeSource {
  /** The canonical tar.gz for `sha256`; rejects if the store has none. */
  fetch(sha256: string): Promise<Buffer>;
}

export class CodeCache {
  private readonly ready = new Set<string>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly options: { dir: string; source: CodeSource }) {}

  /** Resolves with the host directory holding the unpacked code for `sha256`. */
  ensure(sha256: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return Promise.reject(new Error(`not a sha256: ${sha256}`));
    const dir = join(this.options.dir, sha256);
    if (this.ready.has(sha256)) return Promise.resolve(dir);
    let pending = this.inFlight.get(sha256);
    if (!pending) {
      pending = this.load(sha256, dir).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, pending);
    }
    return pending;
  }

  private async load(sha256: string, dir: string): Promise<string> {
    const present = await access(dir).then(
      () => true,
      () => false,
    );
    if (!present) {
      const archive = await this.options.source.fetch(sha256);
      // The address is the archive's hash: a store that returns other bytes is wrong.
      const actual = createHash('sha256').update(archive).digest('hex');
      if (actual !== sha256) throw new Error(`code store returned bytes hashing to ${actual} for ${sha256}`);
      await extractCode(archive, dir);
    }
    this.ready.add(sha256);
    return dir;
  }
}
