import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyTextsOf, openKeyringSource, sealerFrom, writeKeyFile } from '../../worker/common/secret-keyring.ts';
import { ENV_CONTEXT, SealError, createSealer, generateKeyText, keyIdOf, parseKeyring, parseMasterKey, secretContext } from '../../worker/common/secret-sealing.ts';
import { openStoredEnv, sealEnvForStore } from '../../worker/common/stored-env.ts';
import { SecretVersions } from '../../worker/sandbox/sandbox-secrets.ts';

const VALUE = 'postgres://u:p4ss@db/app';
const sealerOf = (text: string) => createSealer(() => parseKeyring(text));

describe('secret sealing', () => {
  it('seals under the first key and opens under any key of the ring', () => {
    const [a, b] = [generateKeyText(), generateKeyText()];
    const sealed = sealerOf(a).seal(secretContext('ns', 'db'), VALUE);
    expect(sealed).not.toContain(VALUE);
    expect(keyIdOf(sealed)).toBe(parseMasterKey(a).id);
    expect(sealerOf(`${b},${a}`).open(secretContext('ns', 'db'), sealed)).toBe(VALUE);
    // Two seals of one value differ (a fresh nonce each).
    expect(sealerOf(a).seal(ENV_CONTEXT, VALUE)).not.toBe(sealerOf(a).seal(ENV_CONTEXT, VALUE));
  });

  it('refuses another context, another key, an altered value and junk, never saying the value', () => {
    const key = generateKeyText();
    const sealed = sealerOf(key).seal(secretContext('ns', 'db'), VALUE);
    const attempts: Array<[() => string, SealError['reason']]> = [
      [() => sealerOf(key).open(secretContext('other', 'db'), sealed), 'unauthentic'],
      [() => sealerOf(generateKeyText()).open(secretContext('ns', 'db'), sealed), 'unknown-key'],
      [() => sealerOf(key).open(secretContext('ns', 'db'), sealed.replace(/\.([A-Za-z0-9_-])([A-Za-z0-9_-]*)\.([^.]*)$/, (_m, c, rest, tag) => `.${c === 'A' ? 'B' : 'A'}${rest}.${tag}`)), 'unauthentic'],
      [() => sealerOf(key).open(secretContext('ns', 'db'), 'plain text'), 'malformed'],
    ];
    for (const [attempt, reason] of attempts) {
      try {
        attempt();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(SealError);
        expect((err as SealError).reason).toBe(reason);
        expect((err as Error).message).not.toContain(VALUE);
      }
    }
  });

  it('takes generated keys, 64 hex digits or a long passphrase, and refuses a short one', () => {
    expect(parseMasterKey('a'.repeat(64)).key).toHaveLength(32);
    expect(parseMasterKey('a passphrase of at least thirty-two characters').key).toHaveLength(32);
    expect(parseMasterKey(generateKeyText()).id).toMatch(/^[0-9a-f]{12}$/);
    expect(() => parseMasterKey('short')).toThrow(/at least 32/);
    expect(() => parseKeyring(' , ')).toThrow(/empty/);
  });

  it('stores an environment sealed and reads sealed and plain rows alike', () => {
    const sealer = sealerOf(generateKeyText());
    const stored = sealEnvForStore({ A: VALUE }, sealer);
    expect(JSON.stringify(stored)).not.toContain(VALUE);
    expect(openStoredEnv(stored, sealer)).toEqual({ A: VALUE });
    expect(openStoredEnv({ A: 'plain' }, sealer)).toEqual({ A: 'plain' });
    expect(() => openStoredEnv(stored, null)).toThrow(/no secrets key/);
  });
});

describe('secrets key file', () => {
  it('creates the default file once (0600), and a named one must exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-key-'));
    const first = openKeyringSource({ stateDir: dir });
    const again = openKeyringSource({ stateDir: dir });
    expect(first.generated).toBe(true);
    expect(again.generated).toBe(false);
    expect(again.current().primary.id).toBe(first.current().primary.id);
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(() => openKeyringSource({ stateDir: dir, keyFile: join(dir, 'missing') })).toThrow(/cannot read the secrets key file/);
  });

  it('re-reads a changed file when a value names a key it lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-key-'));
    const source = openKeyringSource({ stateDir: dir });
    const sealer = sealerFrom(source);
    const next = generateKeyText();
    const sealedByNext = sealerOf(next).seal(ENV_CONTEXT, VALUE);
    writeKeyFile(source.file!, [next, ...keyTextsOf(source.file!)]);
    expect(sealer.open(ENV_CONTEXT, sealedByNext)).toBe(VALUE);
    expect(readFileSync(source.file!, 'utf8').split('\n')[0]).toBe(next);
  });

  it('an environment ring is fixed and never touches a file', () => {
    const key = generateKeyText();
    const source = openKeyringSource({ stateDir: '/nonexistent', keyText: key });
    expect(source.file).toBeNull();
    expect(source.current().primary.id).toBe(parseMasterKey(key).id);
  });
});

describe('secret versions a worker has heard', () => {
  it('makes a sandbox stale once another version is current, ignoring an older one heard late', () => {
    const versions = new SecretVersions();
    const held = new Map([['db', 1]]);
    expect(versions.fresh('ns', held)).toBe(true);
    versions.note('ns', 'db', 2);
    expect(versions.fresh('ns', held)).toBe(false);
    versions.note('ns', 'db', 1);
    expect(versions.fresh('ns', new Map([['db', 2]]))).toBe(true);
    versions.note('ns', 'db', 0);
    expect(versions.fresh('ns', new Map([['db', 2]]))).toBe(false);
    versions.note('ns', 'db', 1);
    expect(versions.fresh('ns', new Map([['db', 1]]))).toBe(true);
    expect(versions.fresh('other', new Map([['db', 7]]))).toBe(true);
  });
});
