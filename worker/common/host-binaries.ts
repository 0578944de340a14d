/**
 * Finding the host programs the platform drives (iptables, dockerd, …), and
 * the error that names one that is missing. Shared by the worker (its egress
 * firewall) and the set-up scripts in infra/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Something the host lacks that the command being run needs, said so that a person can fix it. */
export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

/** Where `binary` is, looking on PATH and in the sbin directories root's PATH may lack. */
export function binaryPath(binary: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.filter(Boolean).map((dir) => join(dir, binary)).find((path) => existsSync(path)) ?? null;
}
