/**
 * `npm start`: sets up what is missing, then starts the gateway and one
 * worker in the background and prints the URL and the API key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from './prerequisites.ts';
import { GATEWAY_MALLOC_ENV } from '../gateway/memory-env.ts';
import { logFile, runningPid, startProcess, stopProcess } from './processes.ts';
import { defaultStateDir, runSetUpCli } from './setup.ts';
import { openKeyringSource } from '../worker/common/secret-keyring.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = defaultStateDir();
const port = Number(process.env.PORT ?? 8080);
const fnPort = Number(process.env.HEARTH_FN_PORT ?? 8081);

await runSetUpCli();

function apiKey(): string {
  if (process.env.HEARTH_API_KEY) return process.env.HEARTH_API_KEY;
  const file = join(stateDir, 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `hk_${randomBytes(24).toString('base64url')}`;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

const key = apiKey();
/** The secrets master key: HEARTH_SECRETS_KEY when given, else the key file kept here (created now if missing, 0600; re-read by the processes when it changes). */
const secretsKey = openKeyringSource({ keyText: process.env.HEARTH_SECRETS_KEY, keyFile: process.env.HEARTH_SECRETS_KEY_FILE, stateDir });
const env = {
  DATABASE_URL: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  REDIS_URL: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
  HEARTH_API_KEY: key,
  ...(secretsKey.file ? { HEARTH_SECRETS_KEY_FILE: secretsKey.file } : { HEARTH_SECRETS_KEY: process.env.HEARTH_SECRETS_KEY! }),
  HEARTH_STATE_DIR: stateDir,
  PORT: String(port),
  HEARTH_FN_PORT: String(fnPort),
};

for (const name of ['gateway', 'worker'] as const) {
  if (runningPid(stateDir, name) !== null) {
    console.log(`[hearth] restarting the running ${name}`);
    await stopProcess(stateDir, name);
  }
}
startProcess(stateDir, 'worker', 'worker/main.ts', env, root);
startProcess(stateDir, 'gateway', 'gateway/main.ts', { ...env, ...GATEWAY_MALLOC_ENV }, root);

const url = `http://127.0.0.1:${port}`;
const until = Date.now() + 30_000;
let healthy = false;
while (Date.now() < until) {
  for (const name of ['gateway', 'worker'] as const) {
    if (runningPid(stateDir, name) === null) {
      console.error(`[hearth] the ${name} exited during start-up; its log (${logFile(stateDir, name)}) ends with:`);
      console.error(readFileSync(logFile(stateDir, name), 'utf8').split('\n').slice(-15).join('\n'));
      process.exit(1);
    }
  }
  healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
  if (healthy) break;
  await new Promise((r) => setTimeout(r, 200));
}
if (!healthy) {
  console.error(`[hearth] the gateway did not answer on ${url} within 30 s; see ${logFile(stateDir, 'gateway')}`);
  process.exit(1);
}

console.log(`
Hearth is running.
  URL:      ${url}   (dashboard and API)
  Functions: http://127.0.0.1:${fnPort}/fn/<name>   (function endpoints: an origin of their own)
  API key:  ${key}
  Secrets:  sealed under the key ${secretsKey.file ? `in ${secretsKey.file}` : 'in HEARTH_SECRETS_KEY'} (rotate: npm run secrets:rotate-key)
  Logs:     ${join(stateDir, 'logs')}
  Stop:     npm stop

Try it:
  export HEARTH_URL=${url} HEARTH_API_KEY=${key}
  printf 'exports.handler = async (event) => ({ hello: event.name ?? "world" });\\n' > index.js
  curl -sS -X PUT "$HEARTH_URL/v1/functions/hello" -H "Authorization: Bearer $HEARTH_API_KEY" \\
       -F code=@index.js -F runtime=nodejs20
  curl -sS "$HEARTH_URL/v1/functions/hello/invoke" -H "Authorization: Bearer $HEARTH_API_KEY" -d '{"name":"Hearth"}'
`);
