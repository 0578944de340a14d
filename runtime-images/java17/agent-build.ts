/**
 * Compiles what the java17 image runs besides the JDK: Hearth's
 * lambda-core jar (the com.amazonaws.services.lambda.runtime interfaces,
 * lambda-core/), the agent jar (agent/*.java) and the training functions
 * the CDS archive is recorded with (training/, never in the image). Output
 * is cached under node_modules/.cache/hearth-java17/agent-<hash>/, keyed by
 * every source file's content and the JDK (javac and the runtime it is for),
 * so an up-to-date check compiles nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { run, RUNTIME_IMAGES_DIR } from '../image-rootfs.ts';
import { JAVA17_CACHE, JDK_HOME, pruneCache, settle } from './jre-build.ts';

const SOURCES = join(RUNTIME_IMAGES_DIR, 'java17');
/** Fixed entry times, so the same sources make the same jars (and the same image). */
const JAR_DATE = '2000-01-01T00:00:02Z';

/** The compiled artefacts, all in one cache directory. */
export interface AgentBuild {
  dir: string;
  /** Becomes /opt/hearth in the image: the two jars (and the CDS archive, once recorded). */
  hearthDir: string;
  /** Hearth's com.amazonaws.services.lambda.runtime interfaces: users compile against it. */
  lambdaCoreJar: string;
  agentJar: string;
  /** Classes of the training functions (a code directory for init). */
  trainingDir: string;
  /** Hash of every input, for the image's identity. */
  key: string;
}

async function javaFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(SOURCES, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.java'))
    .map((e) => relative(SOURCES, join(e.parentPath, e.name)))
    .sort();
}

/** The cached build for the current sources, compiled first if missing; `salt` joins the key (the runtime it is for). */
export async function ensureAgentBuild(salt: string, log: (line: string) => void): Promise<AgentBuild> {
  const groups = { core: await javaFiles('lambda-core'), agent: await javaFiles('agent'), training: await javaFiles('training') };
  // `salt` names the JDK (its release file), hence javac's version: no need to run it.
  const hash = createHash('sha256').update(`${salt}\0`);
  // The build's own code, the recording's and the flags it records with.
  for (const module of ['agent-build.ts', 'cds-archive.ts', 'jvm-flags.ts']) hash.update(await readFile(join(SOURCES, module))).update('\0');
  for (const file of [...groups.core, ...groups.agent, ...groups.training]) {
    hash.update(`${file}\0`).update(await readFile(join(SOURCES, file))).update('\0');
  }
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(JAVA17_CACHE, `agent-${key}`);
  const build: AgentBuild = {
    dir,
    hearthDir: join(dir, 'hearth'),
    lambdaCoreJar: join(dir, 'hearth', 'lambda-core.jar'),
    agentJar: join(dir, 'hearth', 'hearth-agent.jar'),
    trainingDir: join(dir, 'training'),
    key,
  };
  if (existsSync(join(dir, '.complete'))) return build;

  const started = performance.now();
  await mkdir(JAVA17_CACHE, { recursive: true });
  const scratch = `${dir}.tmp-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  const javac = join(JDK_HOME, 'bin', 'javac');
  const jar = join(JDK_HOME, 'bin', 'jar');
  const compile = async (files: string[], out: string, classpath: string[], extra: string[] = []) => {
    await run(javac, ['--release', '17', '-encoding', 'UTF-8', '-nowarn', ...extra, '-d', out,
      ...(classpath.length ? ['-cp', classpath.join(':')] : []), ...files.map((f) => join(SOURCES, f))], { maxBuffer: 16 * 1024 * 1024 })
      .catch((err: { stderr?: string }) => {
        throw new Error(`javac failed for ${out}:\n${err.stderr ?? String(err)}`);
      });
  };
  const classes = (name: string) => join(scratch, 'classes', name);
  await compile(groups.core, classes('core'), []);
  // String concatenation compiled inline: the invokedynamic form bootstraps
  // method handles on first use, tens of milliseconds of every cold start.
  await compile(groups.agent, classes('agent'), [classes('core')], ['-XDstringConcat=inline']);
  await compile(groups.training, join(scratch, 'training'), [classes('core')]);
  await mkdir(join(scratch, 'hearth'));
  await run(jar, ['--create', `--date=${JAR_DATE}`, '--file', join(scratch, 'hearth', 'lambda-core.jar'), '-C', classes('core'), '.']);
  await run(jar, ['--create', `--date=${JAR_DATE}`, '--file', join(scratch, 'hearth', 'hearth-agent.jar'), '-C', classes('agent'), '.']);
  await rm(join(scratch, 'classes'), { recursive: true, force: true });
  await writeFile(join(scratch, '.complete'), '');
  await settle(scratch, dir);
  await pruneCache('agent-', dir);
  log(`java17: compiled the agent and lambda-core in ${((performance.now() - started) / 1000).toFixed(1)}s (${dir})`);
  return build;
}
