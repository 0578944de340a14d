import { describe, expect, it } from 'vitest';
import { parseSetSecretArgs, renderSecrets } from '../../gateway/cli/commands/secret.ts';

describe('hearth secret', () => {
  it('takes a name and a file, or standard input; never a value argument', () => {
    expect(parseSetSecretArgs(['db-url'])).toEqual({ name: 'db-url' });
    expect(parseSetSecretArgs(['db-url', '--from-file', 'x.pem'])).toEqual({ name: 'db-url', fromFile: 'x.pem' });
    expect(() => parseSetSecretArgs(['db-url', 'the-value'])).toThrow(/unexpected argument/);
    expect(() => parseSetSecretArgs([])).toThrow(/missing <name>/);
  });

  it('lists names, versions and users, and says when there are none', () => {
    expect(renderSecrets([])).toMatch(/no secrets/);
    const table = renderSecrets([
      { name: 'db-url', version: 3, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-02T00:00:00.000Z', usedBy: [{ function: 'api', versions: [4, 5], inUse: true }] },
      { name: 'old', version: 1, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z', usedBy: [{ function: 'x', versions: [1], inUse: false }] },
    ]);
    expect(table).toMatch(/NAME\s+VERSION\s+UPDATED\s+USED BY/);
    expect(table).toMatch(/db-url\s+3\s+.*api \(v4, v5\)/);
    expect(table).toContain('x (v1) (not aliased)');
  });
});
