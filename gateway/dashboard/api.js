// The metrics, logs, functions and rollouts API. Signing in trades the key for an
// HttpOnly session cookie (`POST /v1/session`): the page never keeps the key,
// so nothing a script can read holds it. Every call sends the cookie and
// `X-Hearth-Dashboard: 1` (without which the API ignores the cookie); a 401
// throws Unauthorized so the page can bring the login back.

/** Where older dashboards kept the key; removed on load. */
const LEGACY_KEY_ITEM = 'hearth.apiKey';
const DASHBOARD_HEADERS = { 'x-hearth-dashboard': '1', accept: 'application/json' };

/** The key was missing or rejected. */
export class Unauthorized extends Error {
  name = 'Unauthorized';
}

/** Any other non-2xx answer, with the API's `{ error: { code, message } }`. */
export class ApiError extends Error {
  name = 'ApiError';
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(path, { method = 'GET', headers = {} } = {}) {
  const res = await fetch(path, { method, credentials: 'same-origin', headers: { ...DASHBOARD_HEADERS, ...headers } });
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401) throw new Unauthorized(body?.error?.message ?? 'the API key was not accepted');
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'Error', body?.error?.message ?? res.statusText);
  return body;
}

const enc = encodeURIComponent;

/** `POST /v1/session`: resolves (and the browser holds the session cookie) when the API accepts the key. */
export const signIn = (key) => {
  if (!key) return Promise.reject(new Unauthorized('no API key'));
  return call('/v1/session', { method: 'POST', headers: { authorization: `Bearer ${key}` } });
};

/** `GET /v1/session` → `{ signedIn, namespace?, admin? }` (a cookie that no longer works throws Unauthorized). */
export const currentSession = () => call('/v1/session');

/** `DELETE /v1/session`: the cookie is gone once it resolves. */
export const signOut = () => call('/v1/session', { method: 'DELETE' });

/**
 * A key an older dashboard left in localStorage: removed at once, and
 * returned so it can be traded for a session one last time.
 */
export function takeLegacyKey() {
  const key = localStorage.getItem(LEGACY_KEY_ITEM);
  localStorage.removeItem(LEGACY_KEY_ITEM);
  sessionStorage.removeItem(LEGACY_KEY_ITEM);
  return key;
}

/** `GET /v1/functions` → FunctionView[] */
export const listFunctions = async () => (await call('/v1/functions')).functions;

/** `GET /v1/functions/{name}` → FunctionDetails */
export const functionDetails = (name) => call(`/v1/functions/${enc(name)}`);

/** `GET /v1/metrics/summary` → MetricsSummary */
export const metricsSummary = (window) => call(`/v1/metrics/summary?window=${enc(window)}`);

/** `GET /v1/runtimes`: every runtime, whether a live worker serves it, and what its image carries. */
export const listRuntimes = async () => (await call('/v1/runtimes')).runtimes;

/** `GET /v1/functions/{name}/metrics` → FunctionMetricsReport (of one version when `version` is given) */
export const functionMetrics = (name, window, version = null) =>
  call(`/v1/functions/${enc(name)}/metrics?window=${enc(window)}${version === null ? '' : `&version=${enc(version)}`}`);

/**
 * The alias's latest RolloutView, or null when it never had one. Read as a
 * page of one (`GET .../rollouts?limit=1`): an alias without rollouts is an
 * empty page, not a 404 the browser would log as a failed load.
 */
export async function latestRollout(name, alias) {
  try {
    const page = await call(`/v1/functions/${enc(name)}/aliases/${enc(alias)}/rollouts?limit=1`);
    return page.items[0] ?? null;
  } catch (err) {
    // The alias was removed since the function was read: it has no rollout to show.
    if (err instanceof ApiError && err.code === 'AliasNotFound') return null;
    throw err;
  }
}

/** `GET /v1/functions/{name}/invocations` → Page<InvocationSummary> */
export function listInvocations(name, { status, cursor, limit = 20 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  return call(`/v1/functions/${enc(name)}/invocations?${query}`);
}

/** `GET /v1/invocations/{id}/logs` → { invocationId, logs, logsTruncated, report } */
export const invocationLogs = (id) => call(`/v1/invocations/${enc(id)}/logs`);
