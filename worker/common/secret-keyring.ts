/**
 * Where a process gets its secrets key ring: `HEARTH_SECRETS_KEY` (the ring
 * as text, fixed for the life of the process), else a key file
 * (`HEARTH_SECRETS_KEY_FILE`, default `<HEARTH_STATE_DIR>/secrets-key`,
 * mode 0600, one key a line, the first seals).
 *
 * A file is re-read when it changes (looked at no more than once a second,
 * and at once when a value names a key the ring lacks): that is how
 * `npm run secrets:rotate-key` reaches running gateways and workers without
 * a restart. The default file is created when missing, exclusively, so a
 * gateway and a worker starting together on one host agree on one key; a
 * file named explicitly must exist.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { createSealer, generateKeyText, parseKeyring, type Keyring, type Sealer } from './secret-sealing.ts';

/** The configuration both deployables read (spread into each one's zod schema). */
export const SECRETS_KEY_ENV = {
  /** The secrets key ring: keys separated by commas, the first seals (`hsk_…`, 64 hex digits, or 32+ characters of text). */
  HEARTH_SECRETS_KEY: z.string().optional(),
  /** Where the ring is kept instead (re-read when it changes); default `<HEARTH_STATE_DIR>/secrets-key`, created when missing. */
  HEARTH_SECRETS_KEY_FILE: z.string().min(1).optional(),
};

/** The ring `config` names, and a sealer over it; throws (naming the file, never a key) when it cannot be read. */
export function openSecretsKey(config: { HEARTH_SECRETS_KEY?: string | undefined; HEARTH_SECRETS_KEY_FILE?: string | undefined; HEARTH_STATE_DIR: string }) {
  const source = openKeyringSource({ keyText: config.HEARTH_SECRETS_KEY, keyFile: config.HEARTH_SECRETS_KEY_FILE, stateDir: config.HEARTH_STATE_DIR });
  return { source, sealer: sealerFrom(source) };
}

export interface KeyringSettings {
  /** `HEARTH_SECRETS_KEY`: the ring itself. */
  keyText?: string | undefined;
  /** `HEARTH_SECRETS_KEY_FILE`: where the ring is kept. */
  keyFile?: string | undefined;
  /** `HEARTH_STATE_DIR`: the default file's folder. */
  stateDir: string;
}

export interface KeyringSource {
  current(): Keyring;
  /** Re-reads the file now, if the ring comes from one (a no-op otherwise). */
  refresh(): void;
  /** The file the ring is kept in, or null when it came from the environment. */
  readonly file: string | null;
  /** True when this process created the default key file just now. */
  readonly generated: boolean;
}

/** The default key file under a state directory. */
export function defaultKeyFile(stateDir: string): string {
  return join(stateDir, 'secrets-key');
}

/** Opens the ring `settings` describe; throws with the reason when it cannot (an unreadable or malformed ring). */
export function openKeyringSource(settings: KeyringSettings): KeyringSource {
  if (settings.keyText !== undefined && settings.keyText.trim() !== '') {
    const ring = parseKeyring(settings.keyText);
    return { current: () => ring, refresh: () => {}, file: null, generated: false };
  }
  const file = settings.keyFile ?? defaultKeyFile(settings.stateDir);
  const generated = settings.keyFile === undefined && createKeyFileIfMissing(file);
  return { ...watchKeyFile(file), file, generated };
}

/** A sealer over the ring `settings` describe. */
export function sealerFrom(source: KeyringSource): Sealer {
  return createSealer(() => source.current(), () => source.refresh());
}

function watchKeyFile(file: string): Pick<KeyringSource, 'current' | 'refresh'> {
  let ring = readKeyFile(file);
  let seen = modified(file);
  let lookedAt = Date.now();
  const reread = () => {
    lookedAt = Date.now();
    const now = modified(file);
    if (now === seen) return;
    // A file caught mid-write or emptied keeps the ring already held.
    try {
      ring = readKeyFile(file);
      seen = now;
    } catch {
      /* the next look tries again */
    }
  };
  return {
    current() {
      if (Date.now() - lookedAt >= 1000) reread();
      return ring;
    },
    refresh: reread,
  };
}

function modified(file: string): string {
  try {
    const stat = statSync(file);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  } catch {
    return 'missing';
  }
}

/** The ring in `file`; throws naming the file (never its content) when it is missing or malformed. */
export function readKeyFile(file: string): Keyring {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the secrets key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  try {
    return parseKeyring(text);
  } catch (err) {
    throw new Error(`the secrets key file ${file} is not a key ring: ${(err as Error).message}`);
  }
}

/**
 * Writes `keys` (first seals) to `file` in one step: a new file beside it,
 * mode 0600, renamed over the old, so a reader sees the old ring or the new.
 */
export function writeKeyFile(file: string, keys: readonly string[]): void {
  parseKeyring(keys.join('\n'));
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.new`;
  writeFileSync(temporary, `${keys.join('\n')}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The key texts in `file`, in order (for the rotation command). */
export function keyTextsOf(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/[,\n]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Creates `file` with a new key unless it exists; true when this call created it. */
function createKeyFileIfMissing(file: string): boolean {
  if (existsSync(file)) return false;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${Date.now()}.new`;
  writeFileSync(temporary, `${generateKeyText()}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // A hard link appears whole or not at all, and fails if the name exists: of two processes
    // starting at once, one creates the file and the other reads that one, never a half-written file.
    linkSync(temporary, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(temporary, { force: true });
  }
}
