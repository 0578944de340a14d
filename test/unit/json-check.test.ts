import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, objectMembers } from '../../worker/common/json-check.ts';

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const VALID = [
  '{}', '[]', '0', '-0', '1.5e+10', '-12.25E-3', '"a"', '"\\u00e9\\n\\"\\\\\\/"', 'true', 'false', 'null',
  ' \t\n\r{ "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" } \n', '[[[[[]]]]]', '{"":{"":{}}}', '"\\ud800"', '"é😀"',
  '[1,[2,[3,{"x":[true,false,null]}]]]',
];
const INVALID = [
  '', ' ', '{', '}', '[', ']', '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a" 1}', '{a:1}', "{'a':1}", '01', '-', '1.', '.5', '1e', '1e+',
  '+1', 'tru', 'nul', 'True', 'NaN', 'Infinity', '"abc', '"\\x"', '"\\u12"', '"a\u0001b"', '[1 2]', '{"a":1 "b":2}', '1 2', '{}{}',
  '[}', '{]', '"\\', '[1,2', '{"a":', '\u00a0{}', '{} x', '[-]', '--1', '0x10', '1.0.0',
];

describe('jsonSyntaxError: is it JSON, in one pass', () => {
  it('agrees with JSON.parse on valid and invalid texts', () => {
    for (const text of VALID) expect(jsonSyntaxError(text), text).toBeNull();
    for (const text of INVALID) expect(jsonSyntaxError(text), JSON.stringify(text)).toMatch(/at position \d+/);
  });

  it('agrees with JSON.parse on 20,000 random mutations of JSON texts (property)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = '{}[]",:\\ 0123456789.eE+-truefalsn\u0001\n\tu\u00e9a';
    let disagreements = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = VALID[Math.floor(random() * VALID.length)]!;
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (text.length + 1));
        const ch = alphabet[Math.floor(random() * alphabet.length)]!;
        const kind = random();
        text = kind < 0.4 ? text.slice(0, at) + ch + text.slice(at) : kind < 0.7 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at + 1);
      }
      if ((jsonSyntaxError(text) === null) !== parses(text)) {
        disagreements++;
        expect.soft(jsonSyntaxError(text), JSON.stringify(text)).toBe(parses(text) ? null : expect.any(String));
      }
    }
    expect(disagreements).toBe(0);
  });

  it('takes pathological events in stride: 3 million levels, 400,000 keys, 6 MB of one string', () => {
    const deep = '['.repeat(3_000_000) + ']'.repeat(3_000_000);
    expect(jsonSyntaxError(deep)).toBeNull();
    expect(jsonSyntaxError(deep.slice(0, -1))).toMatch(/end of JSON/);
    const keys = '{' + Array.from({ length: 400_000 }, (_, k) => `"k${k}":${k}`).join(',') + '}';
    expect(jsonSyntaxError(keys)).toBeNull();
    expect(jsonSyntaxError(`"${'x'.repeat(6_000_000)}"`)).toBeNull();
    expect(jsonSyntaxError(`${' '.repeat(6_000_000)}!`)).toMatch(/unexpected character/);
  });
});

describe('jsonSyntaxError with a depth limit', () => {
  it('refuses values nested deeper than the limit, and only those', () => {
    expect(jsonSyntaxError('[[[]]]', 3)).toBeNull();
    expect(jsonSyntaxError('[[[[]]]]', 3)).toMatch(/deeper than 3 levels/);
    expect(jsonSyntaxError('{"a":{"b":[1]}}', 3)).toBeNull();
    expect(jsonSyntaxError('{"a":{"b":[{}]}}', 3)).toMatch(/deeper than 3 levels/);
  });
});

describe("objectMembers: an object's members as JSON texts", () => {
  it('agrees with JSON.parse member by member, the last of a repeated name winning', () => {
    const text = ' { "a" : [1, {"x": "]}\\"" }] , "b":"s\\"}" ,"c": -1.5e3, "d" : {"e":[[]]}, "a" : true, "n": null, "f":false } ';
    const members = objectMembers(text)!;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect([...members.keys()].sort()).toEqual(Object.keys(parsed).sort());
    for (const [key, value] of members) expect(JSON.parse(value), key).toEqual(parsed[key]);
    expect(objectMembers('{}')).toEqual(new Map());
    for (const notObject of ['[1]', '"x"', '3', 'null']) expect(objectMembers(notObject)).toBeNull();
  });
});
