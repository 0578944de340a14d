/**
 * Rotating the secrets master key while the platform runs.
 *
 * With a key file (what `npm start` keeps, `HEARTH_SECRETS_KEY_FILE`):
 * 1. a new key goes first in the file, the old ones after it; every gateway
 *    and worker re-reads the file within a second (`secret-keyring.ts`), so
 *    from then on they seal with the new key and still open the old;
 * 2. after a grace, every secret and environment not under the new key is
 *    re-sealed (`reseal-store.ts`), again until none is left;
 * 3. the file keeps only the new key.
 *
 * With `HEARTH_SECRETS_KEY` (a ring given in the environment, as a
 * multi-host deployment does) the processes cannot be told: the operator
 * puts the new key first on every host and restarts them, then runs this,
 * which re-seals under the ring's first key and says when none is left
 * under another; then the old keys can go.
 */
import type { Database } from '../../worker/common/database.ts';
import { keyTextsOf, readKeyFile, writeKeyFile } from '../../worker/common/secret-keyring.ts';
import { createSealer, generateKeyText, parseMasterKey, type Keyring, type Sealer } from '../../worker/common/secret-sealing.ts';
import { countNotUnderPrimary, resealEverything } from './reseal-store.ts';

/** Longer than a process takes to notice a changed key file (it looks once a second). */
export const KEY_FILE_GRACE_MS = 2500;

export interface RotationReport {
  newKeyId: string;
  retiredKeyIds: string[];
  resealed: { secrets: number; environments: number };
}

/** Steps 1-3 above on `file`. `say` is told each step (never a key, only key ids). */
export async function rotateKeyFile(options: { db: Database; file: string; graceMs?: number; say?: (line: string) => void }): Promise<RotationReport> {
  const say = options.say ?? (() => {});
  const old = keyTextsOf(options.file);
  const retiredKeyIds = old.map((text) => parseMasterKey(text).id);
  const fresh = generateKeyText();
  const newKeyId = parseMasterKey(fresh).id;
  writeKeyFile(options.file, [fresh, ...old]);
  say(`new key ${newKeyId} written first in ${options.file}; the old (${retiredKeyIds.join(', ')}) still open values`);
  await new Promise((resolve) => setTimeout(resolve, options.graceMs ?? KEY_FILE_GRACE_MS));
  const ring = readKeyFile(options.file);
  const resealed = await resealUntilDone(options.db, createSealer(() => ring), say);
  writeKeyFile(options.file, [fresh]);
  say(`every value is under key ${newKeyId}; the old keys are gone from ${options.file}`);
  return { newKeyId, retiredKeyIds, resealed };
}

/** Re-seals under `ring`'s first key (the environment-given case); says how many values remain under another. */
export async function resealUnder(options: { db: Database; ring: Keyring; say?: (line: string) => void }): Promise<RotationReport['resealed']> {
  return resealUntilDone(options.db, createSealer(() => options.ring), options.say ?? (() => {}));
}

async function resealUntilDone(db: Database, sealer: Sealer, say: (line: string) => void): Promise<RotationReport['resealed']> {
  const total = { secrets: 0, environments: 0 };
  // A write racing a pass (sealed by a process that had not yet seen the new key) is caught by the next.
  for (let pass = 1; pass <= 10; pass++) {
    const done = await resealEverything(db, sealer);
    total.secrets += done.secrets;
    total.environments += done.environments;
    const left = await countNotUnderPrimary(db, sealer);
    say(`pass ${pass}: re-sealed ${done.secrets} secrets and ${done.environments} environments; ${left.secrets + left.environments} left`);
    if (left.secrets + left.environments === 0) return total;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error('values are still sealed under another key after 10 passes: is a gateway or worker running with another HEARTH_SECRETS_KEY?');
}
