/**
 * Running the `hearth` CLI as a user would: a real child process
 * (`node gateway/cli/hearth.mjs …`), its own HOME so a developer's config
 * file is never read, and nothing inherited from the caller's HEARTH_* variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../gateway/cli/hearth.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables on top of the cleaned environment (HOME must be given). */
  env: Record<string, string>;
  /** Written to stdin, which is then closed (empty when not given). */
  input?: string;
  cwd?: string;
}

/** A running CLI whose output can be watched while it runs. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout satisfies `test`; rejects after `timeoutMs` (with the output so far). */
  waitForStdout(test: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  exited: Promise<CliRun>;
}

export function startCli(args: string[], options: CliOptions): CliProcess {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('HEARTH_') && key !== 'HOME') env[key] = value;
  }
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { ...env, ...options.env },
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin!.end(options.input ?? '');
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout(test, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!test(stdout)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`CLI output did not arrive within ${timeoutMs} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: CliOptions): Promise<CliRun> {
  return startCli(args, options).exited;
}
