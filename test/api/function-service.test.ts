/**
 * The function service in memory: what each change stores, what it
 * announces, and in which order a delete writes the tombstone, deletes the
 * rows and tells the workers. No services.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../gateway/errors.ts';
import { createFunctionService, type FunctionService } from '../../gateway/functions/function-service.ts';
import type { FunctionStore } from '../../gateway/store/functions-store.ts';
import { QueueUnavailableError } from '../../gateway/queue/invocation-queue.ts';
import type { ControlMessage } from '../../worker/contract/messages.ts';
import { zipOf } from '../helpers/code-fixtures.ts';
import { DEFAULT_SETTINGS, InMemoryFunctionStore } from './fake-deps.ts';

const source = (text = 'export const handler = async (e) => e;\n') => ({ filename: 'index.js', bytes: Buffer.from(text) });

let store: InMemoryFunctionStore;
/** Every side effect the service caused, in order. */
let events: string[];
let announced: ControlMessage[];
let logged: Array<{ message: string; fields?: Record<string, unknown> }>;
let tombstone: (functionId: string) => Promise<void>;
let service: FunctionService;

function build(via?: string): FunctionService {
  const changing = (what: string) => events.push(`store.${what}`);
  const recorded: FunctionStore = {
    createVersion: (...a) => (changing('createVersion'), store.createVersion(...a)),
    delete: (...a) => (changing('delete'), store.delete(...a)),
    setLatestVersion: (...a) => (changing('setLatestVersion'), store.setLatestVersion(...a)),
    list: (...a) => store.list(...a),
    get: (...a) => store.get(...a),
    listVersions: (...a) => store.listVersions(...a),
    getVersion: (...a) => store.getVersion(...a),
    resolveVersion: (...a) => store.resolveVersion(...a),
    deleteVersion: (...a) => (changing('deleteVersion'), store.deleteVersion(...a)),
    listAliases: (...a) => store.listAliases(...a),
    getAlias: (...a) => store.getAlias(...a),
    putAlias: (...a) => (changing('putAlias'), store.putAlias(...a)),
    deleteAlias: (...a) => (changing('deleteAlias'), store.deleteAlias(...a)),
    resolveAlias: (...a) => store.resolveAlias(...a),
  };
  return createFunctionService({
    functions: recorded,
    queue: {
      markFunctionDeleted: async (id) => {
        events.push('queue.markFunctionDeleted');
        await tombstone(id);
      },
    },
    announce: async (message) => {
      events.push(`announce ${message.type}`);
      announced.push(message);
    },
    log: { info: (message, fields) => logged.push({ message, ...(fields ? { fields } : {}) }), warn: () => {}, error: () => {} },
    ...(via !== undefined ? { via } : {}),
  });
}

beforeEach(() => {
  store = new InMemoryFunctionStore();
  events = [];
  announced = [];
  logged = [];
  tombstone = async () => {};
  service = build();
});

/** Asserts `promise` rejects with a HearthError of `code` (and its table status). */
async function expectCode(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HearthError);
  expect((err as HearthError).code).toBe(code);
  expect((err as HearthError).status).toBe(status);
}

describe('function service: deploy', () => {
  it('stores the packed code as the next version, then announces function-changed', async () => {
    const first = await service.deploy({ namespace: 'default', name: 'hello', settings: DEFAULT_SETTINGS, code: source() });
    const second = await service.deploy({ namespace: 'default', name: 'hello', settings: { ...DEFAULT_SETTINGS, memoryMb: 256 }, code: source('export const handler = () => 2;\n') });
    expect([first.latestVersion, second.latestVersion]).toEqual([1, 2]);
    expect(second.latest.memoryMb).toBe(256);
    expect(second.latest.codeSha256).not.toBe(first.latest.codeSha256);
    expect(events).toEqual(['store.createVersion', 'announce function-changed', 'store.createVersion', 'announce function-changed']);
    // The new code's address and runtime go with it, so workers can unpack it before the first call.
    expect(announced[0]).toEqual({ type: 'function-changed', namespace: 'default', name: 'hello', code: { sha256: first.latest.codeSha256, runtime: DEFAULT_SETTINGS.runtime } });
    expect(logged[0]).toEqual({ message: 'function deployed', fields: { name: 'hello', version: 1, latest: 1, sha256: first.latest.codeSha256 } });
  });

  it('refuses a package without the handler\'s file 400 HandlerNotFound, storing and announcing nothing', async () => {
    await expectCode(service.deploy({ namespace: 'default', name: 'hello', settings: { ...DEFAULT_SETTINGS, handler: 'main.handler' }, code: source() }), 'HandlerNotFound', 400);
    expect(events).toEqual([]);
    expect(await store.get('default', 'hello')).toBeNull();
  });

  it('refuses a name that is not a DNS label 400 InvalidName', async () => {
    await expectCode(service.deploy({ namespace: 'default', name: 'Not_A_Label', settings: DEFAULT_SETTINGS, code: source() }), 'InvalidName', 400);
    expect(events).toEqual([]);
  });

  it('refuses an empty package 400 InvalidArchive', async () => {
    await expectCode(service.deploy({ namespace: 'default', name: 'hello', settings: DEFAULT_SETTINGS, code: source('') }), 'InvalidArchive', 400);
    expect(events).toEqual([]);
  });

  it('tags its log lines with `via` when built with one', async () => {
    service = build('lambda-api');
    await service.deploy({ namespace: 'default', name: 'hello', settings: DEFAULT_SETTINGS, code: source() });
    expect(logged[0]?.fields).toMatchObject({ name: 'hello', version: 1, via: 'lambda-api' });
  });
});

describe('function service: code and settings updates', () => {
  it('checkCode packs and checks the handler, storing nothing', async () => {
    const packed = await service.checkCode(DEFAULT_SETTINGS, source());
    expect(packed.files).toEqual(['index.js']);
    await expectCode(service.checkCode({ runtime: 'nodejs20', handler: 'other.handler' }, source()), 'HandlerNotFound', 400);
    expect(events).toEqual([]);
  });

  it('checkCode takes a handler whose module is a symlink in the package, as Lambda loads it', async () => {
    const zip = await zipOf([
      { path: 'dist/index.js', data: 'exports.handler = async () => 1;\n' },
      { path: 'index.js', link: 'dist/index.js' },
    ]);
    const packed = await service.checkCode(DEFAULT_SETTINGS, { filename: 'fn.zip', bytes: zip });
    expect(packed).toMatchObject({ files: ['dist/index.js'], symlinks: ['index.js'] });
  });

  it('updateCode keeps the settings of the current version', async () => {
    const v1 = await service.deploy({ namespace: 'default', name: 'f', settings: { ...DEFAULT_SETTINGS, memoryMb: 512, env: { A: '1' } }, code: source() });
    const v2 = await service.updateCode({ namespace: 'default', name: 'f', current: v1.latest, code: source('export const handler = () => 2;\n') });
    expect(v2.latestVersion).toBe(2);
    expect(v2.latest).toMatchObject({ memoryMb: 512, env: { A: '1' } });
    expect(v2.latest.codeSha256).not.toBe(v1.latest.codeSha256);
    expect(announced).toHaveLength(2);
  });

  it('updateSettings keeps the code of the current version and does not look for the handler', async () => {
    const v1 = await service.deploy({ namespace: 'default', name: 'f', settings: DEFAULT_SETTINGS, code: source() });
    const v2 = await service.updateSettings({ namespace: 'default', name: 'f', current: v1.latest, settings: { ...DEFAULT_SETTINGS, handler: 'missing.handler', timeoutMs: 9000 } });
    expect(v2.latestVersion).toBe(2);
    expect(v2.latest).toMatchObject({ handler: 'missing.handler', timeoutMs: 9000, codeSha256: v1.latest.codeSha256 });
    expect(events.slice(-2)).toEqual(['store.createVersion', 'announce function-changed']);
    expect(logged.at(-1)).toEqual({ message: 'function reconfigured', fields: { name: 'f', version: 2 } });
  });
});

describe('function service: rollback', () => {
  it('points latest at an older version, announces, and answers the function as it now is', async () => {
    store.seed('default', 'f', {}, 3);
    const fn = await service.rollback({ namespace: 'default', name: 'f', version: 1 });
    expect(fn?.latestVersion).toBe(1);
    expect(events).toEqual(['store.setLatestVersion', 'announce function-changed']);
  });

  it('throws 404 FunctionNotFound and VersionNotFound, announcing nothing', async () => {
    await expectCode(service.rollback({ namespace: 'default', name: 'nope', version: 1 }), 'FunctionNotFound', 404);
    store.seed('default', 'f');
    await expectCode(service.rollback({ namespace: 'default', name: 'f', version: 7 }), 'VersionNotFound', 404);
    expect(announced).toEqual([]);
  });
});

describe('function service: delete', () => {
  it('writes the tombstone, then deletes the rows, then announces function-deleted', async () => {
    const fn = store.seed('default', 'f');
    expect(await service.delete({ namespace: 'default', name: 'f' })).toBe(fn.id);
    expect(events).toEqual(['queue.markFunctionDeleted', 'store.delete', 'announce function-deleted']);
    expect(announced).toEqual([{ type: 'function-deleted', namespace: 'default', name: 'f', functionId: fn.id }]);
    expect(await store.get('default', 'f')).toBeNull();
  });

  it('answers null for a missing function, writing and announcing nothing', async () => {
    store.seed('acme', 'f');
    expect(await service.delete({ namespace: 'default', name: 'f' })).toBeNull();
    expect(events).toEqual([]);
  });

  it('deletes nothing when the queue cannot take the tombstone: 503 QueueUnavailable', async () => {
    store.seed('default', 'f');
    tombstone = async () => {
      throw new QueueUnavailableError('the queue is unreachable (redis reconnecting)');
    };
    await expectCode(service.delete({ namespace: 'default', name: 'f' }), 'QueueUnavailable', 503);
    expect(events).toEqual(['queue.markFunctionDeleted']);
    expect(await store.get('default', 'f')).not.toBeNull();
  });

  it('passes on any other failure of the tombstone as it is, deleting nothing', async () => {
    store.seed('default', 'f');
    const boom = new Error('boom');
    tombstone = async () => {
      throw boom;
    };
    await expect(service.delete({ namespace: 'default', name: 'f' })).rejects.toBe(boom);
    expect(await store.get('default', 'f')).not.toBeNull();
  });
});
