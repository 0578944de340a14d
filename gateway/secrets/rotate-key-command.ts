/**
 * `npm run secrets:rotate-key`: a new secrets master key, every secret and
 * environment re-sealed under it while the platform runs (`rotate-key.ts`).
 * Reads DATABASE_URL, HEARTH_SECRETS_KEY / HEARTH_SECRETS_KEY_FILE and
 * HEARTH_STATE_DIR as the gateway does (the state directory defaulting as
 * `npm start`'s does). Prints key ids, never a key.
 */
import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../worker/common/database.ts';
import { defaultKeyFile } from '../../worker/common/secret-keyring.ts';
import { parseKeyring } from '../../worker/common/secret-sealing.ts';
import { resealUnder, rotateKeyFile } from './rotate-key.ts';

const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
if (values.help) {
  console.log(`npm run secrets:rotate-key

With a key file (npm start keeps <HEARTH_STATE_DIR>/secrets-key; or HEARTH_SECRETS_KEY_FILE):
  writes a new key first, waits for every process to see it, re-seals every
  secret and environment under it, then drops the old keys. Online.
With HEARTH_SECRETS_KEY (keys in the environment, comma-separated, first seals):
  put the new key first on every host and restart them, then run this to
  re-seal under it; when it says 0 left, remove the old key.`);
  process.exit(0);
}
const say = (line: string) => console.log(`[secrets] ${line}`);
const stateDir = process.env.HEARTH_STATE_DIR ?? (process.getuid?.() === 0 ? '/var/lib/hearth' : join(homedir(), '.hearth'));
const database = openDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hearth');
try {
  if (process.env.HEARTH_SECRETS_KEY && process.env.HEARTH_SECRETS_KEY.trim() !== '') {
    const ring = parseKeyring(process.env.HEARTH_SECRETS_KEY);
    say(`re-sealing under key ${ring.primary.id} (the first of HEARTH_SECRETS_KEY)`);
    const done = await resealUnder({ db: database.db, ring, say });
    say(`done: ${done.secrets} secrets and ${done.environments} environments re-sealed; the other keys can be removed now`);
  } else {
    const report = await rotateKeyFile({ db: database.db, file: process.env.HEARTH_SECRETS_KEY_FILE ?? defaultKeyFile(stateDir), say });
    say(`done: key ${report.newKeyId} replaces ${report.retiredKeyIds.join(', ')}`);
  }
} catch (err) {
  console.error(`[secrets] ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
