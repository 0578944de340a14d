import { describe, expect, it } from 'vitest';
import { parseFunctionSettings } from '../../gateway/deploy/function-settings.ts';
import { HearthError } from '../../gateway/errors.ts';
import { secretRefsOf } from '../../worker/contract/function-version.ts';

const problemsOf = (fields: Record<string, string>) => {
  try {
    parseFunctionSettings({ runtime: 'nodejs20', ...fields });
    return [];
  } catch (err) {
    return ((err as HearthError).details?.problems as string[]) ?? [(err as Error).message];
  }
};

describe('deploy settings: secret references', () => {
  it('splits env into plain values and references, and lists every referenced secret once, sorted', () => {
    const settings = parseFunctionSettings({ runtime: 'nodejs20', env: '{"A":"1","DB":{"secret":"db-url"},"DB2":{"secret":"db-url"}}', secrets: '["tls.key","db-url"]' });
    expect(settings.env).toEqual({ A: '1' });
    expect(settings.secretEnv).toEqual({ DB: 'db-url', DB2: 'db-url' });
    expect(settings.secrets).toEqual(['db-url', 'tls.key']);
    expect(secretRefsOf(settings.secrets!, settings.secretEnv!)).toEqual([
      { name: 'db-url', env: ['DB', 'DB2'] },
      { name: 'tls.key', env: [] },
    ]);
  });

  it('leaves both out when there are none', () => {
    const settings = parseFunctionSettings({ runtime: 'nodejs20', env: '{"A":"1"}', secrets: '[]' });
    expect(settings).not.toHaveProperty('secrets');
    expect(settings).not.toHaveProperty('secretEnv');
  });

  it.each([
    ['{"a":1}', /JSON array/],
    ['["A"]', /"A" is not one/],
    ['["a","a"]', /listed twice/],
    ['[1]', /1 is not one/],
    ['not json', /not valid JSON/],
  ])('refuses secrets %s', (secrets, problem) => {
    expect(problemsOf({ secrets }).join(' ')).toMatch(problem);
  });

  it('refuses references that are not exactly {"secret": name}, and reserved names still', () => {
    expect(problemsOf({ env: '{"X":{"secret":"a","also":1}}' }).join(' ')).toMatch(/\{"secret": "<name>"\}/);
    expect(problemsOf({ env: '{"X":{"secret":"../x"}}' }).join(' ')).toMatch(/secret name/);
    expect(problemsOf({ env: '{"X":{"secret":7}}' }).join(' ')).toMatch(/secret name/);
    expect(problemsOf({ env: '{"HEARTH_X":{"secret":"a"}}' }).join(' ')).toMatch(/reserved/);
  });

  it('caps a version at 32 secrets, env and list together', () => {
    const list = JSON.stringify(Array.from({ length: 31 }, (_, i) => `s${i}`));
    expect(problemsOf({ secrets: list, env: '{"A":{"secret":"x"}}' })).toEqual([]);
    expect(problemsOf({ secrets: list, env: '{"A":{"secret":"x"},"B":{"secret":"y"}}' }).join(' ')).toMatch(/at most 32 secrets/);
  });
});
