/**
 * One benchmark at a time on a machine: every run drops and re-creates the
 * database `hearth_bench` and removes every `bench-*` container, so a second
 * run started beside the first destroys its stack mid-scenario (and both
 * measure each other's load). A run holds `/tmp/hearth-bench.lock` (its pid)
 * and one started meanwhile waits for it; a lock whose process is gone is
 * taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { sleep } from '../helpers/wait.ts';

const LOCK_FILE = '/tmp/hearth-bench.lock';

function holder(): number | null {
  try {
    const pid = Number(readFileSync(LOCK_FILE, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until this process holds the lock; it is let go when the process exits. */
export async function holdBenchLock(log: (line: string) => void): Promise<void> {
  let saidAt = 0;
  for (;;) {
    try {
      writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = holder();
    if (pid === null || !alive(pid)) {
      // Gone without letting go (killed): take it over.
      unlinkSync(LOCK_FILE);
      continue;
    }
    if (Date.now() - saidAt > 30_000) {
      log(`another benchmark (pid ${pid}) is running: waiting for it to finish`);
      saidAt = Date.now();
    }
    await sleep(1000);
  }
  process.once('exit', () => {
    if (holder() === process.pid) unlinkSync(LOCK_FILE);
  });
}
