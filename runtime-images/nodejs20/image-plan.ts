/**
 * The nodejs20 image: this machine's /usr/bin/node (it must be Node 20), its
 * libraries, and the agent joined into one file.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEntries, baseEntries, hostFile, run, RUNTIME_IMAGES_DIR, sharedLibraries, type ImagePlan, type RootfsEntry } from '../image-rootfs.ts';
import { joinEsModules } from '../join-es-modules.ts';
import { RUNTIMES } from '../runtimes.ts';

const here = RUNTIME_IMAGES_DIR;

export async function planNode(): Promise<ImagePlan> {
  const node = '/usr/bin/node';
  const { stdout: version } = await run(node, ['--version']);
  if (!version.startsWith('v20.')) throw new Error(`${node} is ${version.trim()}, the nodejs20 runtime needs Node 20`);
  const entries: RootfsEntry[] = [
    await hostFile(node),
    ...(await Promise.all((await sharedLibraries([node])).map((lib) => hostFile(lib)))),
    await joinedNodeAgent(node),
    ...(await agentEntries('nodejs20/agent', ['.cjs'])),
    ...(await baseEntries()),
  ];
  return {
    runtime: 'nodejs20',
    tag: RUNTIMES.nodejs20.image,
    entries,
    entrypoint: [node, '/opt/hearth/bootstrap.mjs'],
    identity: `node ${version.trim()}`,
  };
}

/**
 * /opt/hearth/bootstrap.mjs: the Node agent's ES modules (nodejs20/agent/*.mjs,
 * one concern each) joined into the one file the image runs, because one file
 * reaches `hello` about 4 ms sooner than eight (see join-es-modules.ts). The
 * join is checked with the image's `node --check` here, so a clash of
 * top-level names between modules fails the build rather than every start.
 */
async function joinedNodeAgent(node: string): Promise<RootfsEntry> {
  const dir = join(here, 'nodejs20/agent');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.mjs'));
  const sources = new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const)));
  const joined = joinEsModules(sources, 'bootstrap.mjs');
  const scratch = await mkdtemp(join(tmpdir(), 'hearth-agent-'));
  try {
    await writeFile(join(scratch, 'bootstrap.mjs'), joined);
    await run(node, ['--check', join(scratch, 'bootstrap.mjs')]).catch((err: { stderr?: string }) => {
      throw new Error(`the joined Node agent does not parse:\n${err.stderr ?? String(err)}`);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { kind: 'data', path: '/opt/hearth/bootstrap.mjs', data: Buffer.from(joined, 'utf8'), mode: 0o444 };
}

