/**
 * Where the CLI finds its gateway: `HEARTH_URL` / `HEARTH_API_KEY`, each
 * overriding the config file `~/.config/hearth/config.json`
 * (`{ "url", "apiKey" }`, written by `hearth login` with mode 0600).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './cli-error.ts';

export interface CliConfig {
  /** Gateway base URL, without a trailing slash. */
  url: string;
  apiKey: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** `$HOME/.config/hearth/config.json` (HOME from `env`, so tests can point it elsewhere). */
function configPath(env: Env): string {
  return join(env.HOME || homedir(), '.config', 'hearth', 'config.json');
}

/**
 * The effective configuration. Throws `NotConfigured` (exit 2) when the URL
 * or the key is missing from both places, and `InvalidConfig` when the file
 * is not the JSON it should be.
 */
export async function loadConfig(env: Env): Promise<CliConfig> {
  const path = configPath(env);
  const file = await readConfigFile(path);
  const url = env.HEARTH_URL || file.url;
  const apiKey = env.HEARTH_API_KEY || file.apiKey;
  if (!url || !apiKey) {
    const missing = [!url && 'the gateway URL', !apiKey && 'the API key'].filter(Boolean).join(' and ');
    throw new CliError(
      'NotConfigured',
      `${missing} not set: export HEARTH_URL and HEARTH_API_KEY, or run hearth login --url <url> --key <key>`,
      EXIT.usage,
    );
  }
  return { url: normalizeUrl(url), apiKey: checkApiKey(apiKey) };
}

/** Keys go into a header: printable ASCII, no spaces. Throws `InvalidConfig`. */
export function checkApiKey(key: string): string {
  if (!/^[\x21-\x7e]+$/.test(key)) throw new CliError('InvalidConfig', 'the API key must be printable ASCII without spaces', EXIT.usage);
  return key;
}

/** Writes the config file (mode 0600, its folder 0700), replacing it atomically. */
export async function saveConfig(env: Env, config: CliConfig): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ url: config.url, apiKey: config.apiKey }, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is masked by the umask; the key must not be group-readable.
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}

/** Checks the URL is http(s) and drops trailing slashes. Throws `InvalidConfig`. */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError('InvalidConfig', `"${raw}" is not a URL; expected e.g. http://127.0.0.1:8080`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('InvalidConfig', `"${raw}" is not an http or https URL`, EXIT.usage);
  }
  return url.href.replace(/\/+$/, '');
}

async function readConfigFile(path: string): Promise<Partial<CliConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError('InvalidConfig', `cannot read ${path}: ${(err as Error).message}`, EXIT.usage);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError('InvalidConfig', `${path} is not valid JSON; fix it or run hearth login again`, EXIT.usage);
  }
  const { url, apiKey } = (parsed ?? {}) as Record<string, unknown>;
  if ((url !== undefined && typeof url !== 'string') || (apiKey !== undefined && typeof apiKey !== 'string')) {
    throw new CliError('InvalidConfig', `${path} must hold {"url": "...", "apiKey": "..."}`, EXIT.usage);
  }
  return { ...(url ? { url } : {}), ...(apiKey ? { apiKey } : {}) };
}
