/**
 * Child processes of the bench and chaos stacks: a `node --import tsx <entry>`
 * whose output goes to a log file and which counts as started once it logs a
 * given message, and a graceful stop (SIGTERM, then SIGKILL after a grace).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface StartedProcess {
  name: string;
  process: ChildProcess;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  exited: Promise<number | null>;
}

export interface TsxProcessOptions {
  name: string;
  /** Script to run, relative to `cwd`. */
  entry: string;
  cwd: string;
  /** Set over this process's own environment. */
  env: Record<string, string>;
  /** Where stdout and stderr go (appended). */
  logFile: string;
  /** The `message` field of the JSON log line that says it is ready. */
  readyMessage: string;
  readyTimeoutMs: number;
  /** How much of the latest output is searched for `readyMessage`. */
  tailChars: number;
  /** The error when it exits before it was ready; `log` is the end of its log. */
  exitedError?: (code: number | null, log: string) => string;
  /** The error when it is not ready in time. */
  timeoutError?: (log: string) => string;
}

/**
 * Starts `node --import tsx <entry>` and resolves once it logged
 * `readyMessage`; SIGKILLs it and rejects if it exits first or is not
 * ready within `readyTimeoutMs`.
 */
export async function startTsxProcess(options: TsxProcessOptions): Promise<StartedProcess> {
  const { name, logFile, readyMessage, tailChars } = options;
  const exitedError = options.exitedError ?? ((code, log) => `${name} exited (code ${code}) before it was ready; its log ends with:\n${log}`);
  const timeoutError = options.timeoutError ?? ((log) => `${name} not ready within ${options.readyTimeoutMs / 1000} s; its log ends with:\n${log}`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let seen = '';
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out.write(chunk);
        if (seen === 'done') return;
        seen = (seen + chunk.toString('utf8')).slice(-tailChars);
        if (!seen.includes(`"message":"${readyMessage}"`)) return;
        seen = 'done';
        resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(exitedError(code, tail(logFile)))));
      timer = setTimeout(() => reject(new Error(timeoutError(tail(logFile)))), options.readyTimeoutMs);
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { name, process: child, exited };
}

/**
 * SIGTERM, then SIGKILL (after `onKill`) if it has not exited within
 * `graceMs`; resolves once it has exited. Nothing to do if it already has.
 */
export async function stopGracefully(child: ChildProcess, exited: Promise<unknown>, graceMs: number, onKill?: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const done = await Promise.race([exited.then(() => true), grace]).finally(() => clearTimeout(timer));
  if (!done) {
    onKill?.();
    child.kill('SIGKILL');
    await exited;
  }
}

/** The last `lines` lines of `file`, or `(no log)`. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
