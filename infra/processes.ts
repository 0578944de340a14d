/** Starting and stopping the platform's background processes, tracked by pid files. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type ProcessName = 'gateway' | 'worker';

function pidFile(stateDir: string, name: ProcessName): string {
  return join(stateDir, 'run', `${name}.pid`);
}

export function logFile(stateDir: string, name: ProcessName): string {
  return join(stateDir, 'logs', `${name}.log`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runningPid(stateDir: string, name: ProcessName): number | null {
  const file = pidFile(stateDir, name);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
}

/** Starts `node --import tsx <entry>` detached, output appended to its log file. */
export function startProcess(
  stateDir: string,
  name: ProcessName,
  entry: string,
  env: Record<string, string | undefined>,
  cwd: string,
): number {
  mkdirSync(join(stateDir, 'run'), { recursive: true });
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const out = openSync(logFile(stateDir, name), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  writeFileSync(pidFile(stateDir, name), String(child.pid));
  return child.pid!;
}

/** SIGTERM (the processes drain), then SIGKILL after `graceMs`. */
export async function stopProcess(stateDir: string, name: ProcessName, graceMs = 30_000): Promise<boolean> {
  const pid = runningPid(stateDir, name);
  rmSync(pidFile(stateDir, name), { force: true });
  if (pid === null) return false;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}
