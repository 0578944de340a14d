/**
 * Preloaded into the soak's gateway and worker (`NODE_OPTIONS=--import …`):
 * every second it writes this process's `process.memoryUsage()` as JSON to
 * `$HEARTH_SOAK_HEAP_DIR/<pid>.json`, so the soak can report each process's
 * V8 heap next to its RSS without the platform exposing it. Does nothing
 * without that variable; the timer never keeps the process alive.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.HEARTH_SOAK_HEAP_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  const write = () => {
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
      renameSync(`${file}.tmp`, file);
    } catch {
      // The directory went away at the end of the run.
    }
  };
  write();
  setInterval(write, 1000).unref();
}
