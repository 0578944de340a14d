/**
 * What the rollout tests do to a real platform: deploy a version from a
 * handler's source (optionally without moving latest), point an alias, start
 * a rollout, and call the function through the alias from one or more
 * gateways until the rollout has finished, counting which version answered.
 */
import { expect } from 'vitest';
import type { RolloutView } from '../../gateway/rollouts/rollout-views.ts';
import type { ApiResponse } from './platform.ts';

/** A gateway's API with the key set (`Platform.api`, `ExtraGateway.api`). */
export type Api = (path: string, init?: RequestInit) => Promise<ApiResponse>;

const json = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
});

/** Deploys `source` as `index.js` (nodejs20) and answers the new version's number. */
export async function deploySource(api: Api, name: string, source: string, options: { moveLatest?: boolean } = {}): Promise<number> {
  const form = new FormData();
  form.set('code', new Blob([Buffer.from(source)]), 'index.js');
  form.set('runtime', 'nodejs20');
  if (options.moveLatest === false) form.set('moveLatest', 'false');
  const res = await api(`/v1/functions/${name}`, { method: 'PUT', body: form });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()).version as number;
}

/** `PUT` of an alias at one version. */
export async function pointAlias(api: Api, name: string, alias: string, version: number): Promise<void> {
  const res = await api(`/v1/functions/${name}/aliases/${alias}`, json('PUT', { version }));
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

/** The rollout routes of one alias. */
export function rolloutOf(api: Api, name: string, alias: string) {
  const path = `/v1/functions/${name}/aliases/${alias}/rollout`;
  return {
    start: (body: unknown) => api(path, json('POST', body)),
    view: async (): Promise<RolloutView> => {
      const res = await api(path);
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json();
    },
    act: (verb: 'pause' | 'resume' | 'abort') => api(`${path}/${verb}`, json('POST')),
  };
}

/** One call through the alias; answers the version that ran it (from `X-Function-Version`). */
export async function callAlias(api: Api, name: string, alias: string): Promise<number> {
  const res = await api(`/v1/functions/${name}/invoke?alias=${alias}`, json('POST', {}));
  await res.arrayBuffer();
  const version = Number(res.headers.get('x-function-version'));
  expect(version, `status ${res.status}`).toBeGreaterThan(0);
  return version;
}

/**
 * Calls through the alias from each of `callers` in parallel (one call at a
 * time each) until the rollout (read through `view`) is no longer running,
 * or `timeoutMs` passes. Answers its last view and the calls per version.
 */
export async function driveUntilFinished(
  callers: Api[],
  name: string,
  alias: string,
  view: () => Promise<RolloutView>,
  timeoutMs: number,
): Promise<{ view: RolloutView; calls: Record<number, number> }> {
  const calls: Record<number, number> = {};
  const until = Date.now() + timeoutMs;
  let finished = false;
  const drive = async (api: Api) => {
    while (!finished && Date.now() < until) {
      const version = await callAlias(api, name, alias);
      calls[version] = (calls[version] ?? 0) + 1;
    }
  };
  const watch = async () => {
    try {
      for (;;) {
        const last = await view();
        if (last.status !== 'running' || Date.now() >= until) return last;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      finished = true;
    }
  };
  const [last] = await Promise.all([watch(), ...callers.map(drive)]);
  expect(last.status, `the rollout was still running after ${timeoutMs} ms: ${JSON.stringify(last)}`).not.toBe('running');
  return { view: last, calls };
}
