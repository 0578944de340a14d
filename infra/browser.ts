/**
 * The browser the dashboard's end-to-end test drives: Debian's `chromium`,
 * installed with apt-get when it is missing. The tests never download a
 * browser of their own (playwright-core only drives this one).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { PrerequisiteError } from './prerequisites.ts';

const run = promisify(execFile);

/** Where the dashboard test expects the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Makes sure `/usr/bin/chromium` exists, installing Debian's `chromium` package if not. */
export async function ensureChromium(log: (line: string) => void): Promise<void> {
  if (existsSync(CHROMIUM_PATH)) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new PrerequisiteError(
      `${CHROMIUM_PATH} is missing (the dashboard test drives it), and this machine cannot install it here (needs root and apt-get): install Debian's chromium package yourself`,
    );
  }
  log(`${CHROMIUM_PATH} is missing: installing chromium from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, maxBuffer: 64 << 20 });
  try {
    await install().catch(async () => {
      await run('apt-get', ['update'], { env, maxBuffer: 64 << 20 });
      await install();
    });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') ?? (err as Error).message;
    throw new PrerequisiteError(`could not install chromium with apt-get (${detail}); install it so that ${CHROMIUM_PATH} exists`);
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new PrerequisiteError(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing; install Debian's chromium package`);
  }
}
