/**
 * The gateway's HTTP API as the CLI uses it: base URL + key, every call with
 * `Authorization: Bearer <key>`. An error answer (`{ "error": { "code",
 * "message" } }`) becomes a `CliError` with the API's code and message; a
 * gateway that cannot be reached becomes `Unreachable` (exit 3), naming the URL.
 */
import { CliError, EXIT } from './cli-error.ts';
import type { CliConfig } from './config.ts';
import { sendMultipart, type FormPart, type ProgressListener } from './multipart-upload.ts';

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  /** Sent as JSON text (`Content-Type: application/json`). */
  json?: unknown;
  /** Sent as is, as JSON text. */
  body?: string | Buffer;
  signal?: AbortSignal;
}

export class HearthClient {
  constructor(readonly config: CliConfig) {}

  /** The answer, whatever its status; only a failure to reach the gateway throws. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
    try {
      return await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.config.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw this.connectionError(err);
    }
  }

  /** The answer's JSON; an error status throws the API's error as a `CliError`. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    if (!res.ok) throw await apiError(res);
    if (res.status === 204) return undefined as T;
    return (await readJson(res)) as T;
  }

  /** A multipart upload with progress; the answer's JSON, or the API's error thrown. */
  async upload<T>(method: 'PUT' | 'POST', path: string, parts: FormPart[], onProgress?: ProgressListener): Promise<T> {
    let res: Response;
    try {
      res = await sendMultipart({
        url: new URL(this.url(path)),
        method,
        headers: { authorization: `Bearer ${this.config.apiKey}` },
        parts,
        ...(onProgress ? { onProgress } : {}),
      });
    } catch (err) {
      throw this.connectionError(err);
    }
    if (!res.ok) throw await apiError(res);
    return (await readJson(res)) as T;
  }

  private url(path: string, query: Record<string, string | undefined> = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
    const search = params.toString();
    return `${this.config.url}${path}${search ? `?${search}` : ''}`;
  }

  private connectionError(err: unknown): Error {
    if (isAbort(err)) return err as Error;
    // fetch reports network failures as "fetch failed" with the socket error as cause;
    // node:http reports the socket error itself. Anything else is not about reaching the gateway.
    const cause = (err as { cause?: unknown }).cause ?? err;
    if (typeof (cause as { code?: unknown }).code !== 'string' && cause === err) return err as Error;
    const code = (cause as { code?: unknown }).code;
    const why = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
    return new CliError(
      'Unreachable',
      `cannot reach the gateway at ${this.config.url} (${why}); is it running? (HEARTH_URL or hearth login sets the URL)`,
      EXIT.unreachable,
    );
  }
}

/** Turns an error answer into a `CliError` carrying the API's code and message. */
export async function apiError(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  if (error && typeof error.code === 'string') {
    return new CliError(error.code, typeof error.message === 'string' ? error.message : res.statusText);
  }
  const snippet = text.trim().slice(0, 200);
  return new CliError(`Http${res.status}`, `the gateway answered ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`);
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError('InvalidResponse', `the gateway answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
}
