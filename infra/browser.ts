/**
 * The browser the dashboard's end-to-end test drives: Debian's `chromium`,
 * installed with apt-get when it is missing. The tests never download a
 * browser of their own (playwright-core only drives this one).
 */
import { existsSync } from 'node:fs';
import { PrerequisiteError } from '../worker/common/host-binaries.ts';
import { aptInstall } from './prerequisites.ts';

/** Where the dashboard test expects the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Makes sure `/usr/bin/chromium` exists, installing Debian's `chromium` package if not. */
export async function ensureChromium(log: (line: string) => void): Promise<void> {
  if (existsSync(CHROMIUM_PATH)) return;
  await aptInstall(['chromium'], log, `${CHROMIUM_PATH} is missing (the dashboard test drives it)`);
  if (!existsSync(CHROMIUM_PATH)) {
    throw new PrerequisiteError(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing; install Debian's chromium package`);
  }
}
