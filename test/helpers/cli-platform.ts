/**
 * What the CLI end-to-end files share (test/e2e/cli-*.test.ts): a platform
 * with a work folder and a HOME of their own, a runner that points the CLI at
 * it, and the shapes of what the CLI prints.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { removeTempDirs, tempDir } from './code-fixtures.ts';
import { runCli, type CliRun } from './cli.ts';
import { startPlatform, type Platform } from './platform.ts';

export interface CliPlatform {
  platform: Platform;
  /** HOME (empty, of its own), HEARTH_URL and HEARTH_API_KEY for this platform. */
  env: Record<string, string>;
  /** A temp folder for the functions a file writes and deploys. */
  work: string;
  /** Stops the platform and removes the temp folders. */
  stop(): Promise<void>;
}

export async function startCliPlatform(): Promise<CliPlatform> {
  const platform = await startPlatform();
  const work = await tempDir('hearth-cli-');
  const env = { HOME: await tempDir('hearth-home-'), HEARTH_URL: platform.url, HEARTH_API_KEY: platform.apiKey };
  return {
    platform,
    env,
    work,
    async stop() {
      await platform.stop();
      await removeTempDirs();
    },
  };
}

/** A CLI platform for one e2e file: started before its tests (`onStart` gets it, and may set up more), stopped after. */
export function useCliPlatform(onStart: (started: CliPlatform) => unknown): void {
  let started: CliPlatform | undefined;
  beforeAll(async () => {
    started = await startCliPlatform();
    await onStart(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
}

/** `hearth …` run to completion, with `defaultEnv()` unless a run gives its own environment. */
export function cliWith(defaultEnv: () => Record<string, string>) {
  return (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> =>
    runCli(args, { env: options.env ?? defaultEnv(), ...(options.input !== undefined ? { input: options.input } : {}) });
}

/** A short random suffix for function and file names. */
export const suffix = () => randomBytes(3).toString('hex');

/** The line `invoke` prints on stderr: id, version, start kind, duration. */
export const INVOCATION_LINE = /invocation ([0-9a-f-]{36})\s+version (\d+)\s+start (cold|prewarmed|warm)\s+duration [\d.]+ ms/;

/** The invocation id `invoke` printed on stderr. */
export const idOf = (run: CliRun) => INVOCATION_LINE.exec(run.stderr)?.[1];

/** A stack trace line: the CLI must never print one for a usage or platform error. */
export const STACK = /\n\s+at /;

/** Anything a terminal would act on, other than tab and newline. */
export const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
