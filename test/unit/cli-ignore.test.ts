/** What `hearth deploy <dir>` leaves out: `.hearthignore` patterns (ignore-rules.ts) and the default exclusions (folder-listing.ts). */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listFolder } from '../../gateway/cli/folder-listing.ts';
import { isIgnored, parseIgnoreLine, parseIgnoreRules } from '../../gateway/cli/ignore-rules.ts';
import { packFolder } from '../../gateway/cli/pack-folder.ts';
import { removeTempDirs, tempDir } from '../helpers/code-fixtures.ts';

/** Whether `patterns` (a .hearthignore's text) leave `path` out; a trailing `/` on the path marks a folder. */
const ignored = (patterns: string, path: string) => isIgnored(parseIgnoreRules(patterns), path.replace(/\/$/, ''), path.endsWith('/'));

afterAll(removeTempDirs);

describe('.hearthignore patterns', () => {
  it('skips blank lines and comments, keeps an escaped # or !, trims unescaped trailing spaces', () => {
    expect(parseIgnoreRules('\n# a comment\n   \n')).toEqual([]);
    expect(ignored('\\#notes', '#notes')).toBe(true);
    expect(ignored('\\!bang', '!bang')).toBe(true);
    expect(ignored('trail   ', 'trail')).toBe(true);
    expect(ignored('space\\ ', 'space ')).toBe(true);
    expect(ignored('space\\ ', 'space')).toBe(false);
    expect(ignored('crlf\r\n', 'crlf')).toBe(true);
  });

  it('matches a pattern without a slash at any depth, one with a slash from the top only', () => {
    expect(ignored('*.log', 'debug.log')).toBe(true);
    expect(ignored('*.log', 'a/b/debug.log')).toBe(true);
    expect(ignored('build/out', 'build/out')).toBe(true);
    expect(ignored('build/out', 'src/build/out')).toBe(false);
    expect(ignored('/top.txt', 'top.txt')).toBe(true);
    expect(ignored('/top.txt', 'sub/top.txt')).toBe(false);
  });

  it('a trailing slash matches folders only', () => {
    expect(ignored('cache/', 'cache/')).toBe(true);
    expect(ignored('cache/', 'deep/cache/')).toBe(true);
    expect(ignored('cache/', 'cache')).toBe(false);
  });

  it('* and ? stay within one name; ** spans folders; a trailing /** matches the contents only', () => {
    expect(ignored('/src/*.js', 'src/a.js')).toBe(true);
    expect(ignored('/src/*.js', 'src/deep/a.js')).toBe(false);
    expect(ignored('file?.txt', 'file1.txt')).toBe(true);
    expect(ignored('file?.txt', 'file10.txt')).toBe(false);
    expect(ignored('a/**/z', 'a/z')).toBe(true);
    expect(ignored('a/**/z', 'a/b/c/z')).toBe(true);
    expect(ignored('a/**/z', 'b/a/z')).toBe(false);
    expect(ignored('**/fixtures', 'x/y/fixtures/')).toBe(true);
    expect(ignored('logs/**', 'logs/a/b.txt')).toBe(true);
    expect(ignored('logs/**', 'logs/')).toBe(false);
    expect(ignored('a**b', 'axxb')).toBe(true);
    expect(ignored('a**b', 'ax/xb')).toBe(false);
  });

  it('character classes: sets, ranges, negation with ! or ^, an unclosed [ as itself', () => {
    expect(ignored('[abc].txt', 'b.txt')).toBe(true);
    expect(ignored('[abc].txt', 'd.txt')).toBe(false);
    expect(ignored('v[0-9]', 'v7')).toBe(true);
    expect(ignored('v[!0-9]', 'v7')).toBe(false);
    expect(ignored('v[^0-9]', 'vx')).toBe(true);
    expect(ignored('[]]', ']')).toBe(true);
    expect(ignored('odd[', 'odd[')).toBe(true);
  });

  it('the last matching pattern decides; ! re-includes', () => {
    expect(ignored('*.log\n!keep.log', 'keep.log')).toBe(false);
    expect(ignored('*.log\n!keep.log', 'drop.log')).toBe(true);
    expect(ignored('!keep.log\n*.log', 'keep.log')).toBe(true);
    expect(ignored('dir/\n!dir/', 'dir/')).toBe(false);
  });

  it('takes time linear in the path for patterns that make backtracking matchers explode', () => {
    const name = `${'a'.repeat(5000)}b`;
    const stars = `${'*a'.repeat(200)}c`;
    const deep = `${'x/'.repeat(3000)}y`;
    const globstars = `${'**/x/'.repeat(100)}z`;
    const started = performance.now();
    expect(ignored(stars, name)).toBe(false);
    expect(ignored(globstars, deep)).toBe(false);
    expect(ignored(`[${'a-'.repeat(2000)}]`, 'q')).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('drops lines that can match nothing', () => {
    expect(parseIgnoreLine('/')).toBeNull();
    expect(parseIgnoreLine('!')).toBeNull();
  });
});

describe('deploy folder listing', () => {
  const tree = async (files: Record<string, string>) => {
    const root = await tempDir('hearth-ignore-');
    for (const [path, data] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), data);
    }
    return root;
  };
  const kept = async (root: string) => (await listFolder(root)).entries.filter((e) => e.kind !== 'dir').map((e) => e.path);

  it('leaves out secrets, keys, version control and caches by default, and says which', async () => {
    const root = await tree({
      'index.js': 'x',
      '.env': 'SECRET=1',
      '.env.production': 'SECRET=2',
      '.npmrc': '//registry/:_authToken=t',
      '.pypirc': 'p',
      '.netrc': 'n',
      '.ssh/id_ed25519': 'k',
      '.aws/credentials': 'c',
      '.git/HEAD': 'h',
      'certs/server.pem': 'p',
      'tls.key': 'k',
      'id_rsa.pub': 'k',
      '.DS_Store': 'd',
      'node_modules/dep/index.js': 'd',
      'node_modules/.cache/babel/x.json': 'c',
      'lib/util.js': 'u',
    });
    const listing = await listFolder(root);
    expect(await kept(root)).toEqual(['index.js', 'lib/util.js', 'node_modules/dep/index.js']);
    expect(listing.excluded.sort()).toEqual(
      ['.DS_Store', '.aws/', '.env', '.env.production', '.git/', '.netrc', '.npmrc', '.pypirc', '.ssh/', 'certs/server.pem', 'id_rsa.pub', 'node_modules/.cache/', 'tls.key'].sort(),
    );
    expect(listing.usedIgnoreFile).toBe(false);
  });

  it('honours the folder\'s .hearthignore, which can re-include a default', async () => {
    const root = await tree({
      'index.js': 'x',
      '.env': 'SECRET=1',
      '.env.example': 'SECRET=',
      'docs/readme.md': 'd',
      'src/docs/keep.md': 'k',
      'debug.log': 'l',
      '.hearthignore': '# not code\n/docs/\n*.log\n!.env.example\n',
    });
    const listing = await listFolder(root);
    expect(await kept(root)).toEqual(['.env.example', 'index.js', 'src/docs/keep.md']);
    expect(listing.excluded.sort()).toEqual(['.env', '.hearthignore', 'debug.log', 'docs/'].sort());
    expect(listing.usedIgnoreFile).toBe(true);
  });

  it('packs only what is kept, and refuses a folder with nothing left', async () => {
    const root = await tree({ 'main.py': 'x', '.env': 'S', '.ssh/id_rsa': 'k' });
    const packed = await packFolder(root);
    expect(packed.files).toEqual(['main.py']);
    expect(packed.excluded).toEqual(['.env', '.ssh/']);
    const empty = await tree({ '.env': 'S', 'key.pem': 'k' });
    await expect(packFolder(empty)).rejects.toThrow(/holds no files to upload \(2 left out/);
  });

  it('a left-out link is not checked, a kept one still may not leave the folder', async () => {
    const root = await tree({ 'index.js': 'x' });
    await symlink('/etc/passwd', join(root, 'escape.pem'));
    expect((await listFolder(root)).excluded).toEqual(['escape.pem']);
    await symlink('/etc/passwd', join(root, 'escape'));
    await expect(listFolder(root)).rejects.toThrow(/points outside the folder/);
  });
});
