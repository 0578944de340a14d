import { describe, expect, it } from 'vitest';
import { BatchingRecorder, type RecordEntry } from '../../worker/records/batching-recorder.ts';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';
import { succeeded } from '../api/fakes/invocation-queue.ts';
import { jobOf } from '../helpers/invocation-jobs.ts';

/** A whole job of call `id`: the recorder only reads its id, but gets what a worker would hand it. */
const job = (id: string): InvocationJob => jobOf({ invocationId: id, enqueuedAt: 0 });
const entry = (id: string) => ({ job: job(id), outcome: succeeded(job(id)) });

describe('batching recorder', () => {
  it('writes a lone record at once and batches what arrives while a write is in flight', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const recorder = new BatchingRecorder(async (entries: RecordEntry[]) => {
      batches.push(entries.map((e) => e.job.invocationId));
      if (batches.length === 1) await gate;
    });
    const first = recorder.record(entry('a').job, entry('a').outcome);
    const rest = ['b', 'c', 'd'].map((id) => recorder.record(entry(id).job, entry(id).outcome));
    expect(batches).toEqual([['a']]);
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('rejects a caller only when even its stripped record is refused', async () => {
    const recorder = new BatchingRecorder(async (entries) => {
      if (entries.some((e) => e.job.invocationId === 'a')) throw Object.assign(new Error('value out of range'), { code: '22003' });
    });
    await expect(recorder.record(entry('a').job, entry('a').outcome)).rejects.toThrow('value out of range');
    await expect(recorder.record(entry('b').job, entry('b').outcome)).resolves.toBeUndefined();
  });

  it('isolates a refused row: its batch-mates are written whole, it is written stripped with a note', async () => {
    const written: RecordEntry[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let writes = 0;
    const refused: string[] = [];
    const recorder = new BatchingRecorder(
      async (entries) => {
        writes++;
        if (writes === 1) await gate;
        if (entries.some((e) => e.outcome.logs.includes('poison'))) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
        written.push(...entries);
      },
      { onRefused: (_err, e) => refused.push(e.job.invocationId) },
    );
    const outcome = (id: string, logs: string) => ({ ...succeeded(job(id), '"r"'), logs });
    const first = recorder.record(job('first'), outcome('first', 'ok'));
    const ids = Array.from({ length: 9 }, (_, i) => `c${i}`);
    const all = ids.map((id, i) =>
      recorder.record(job(id), outcome(id, i === 4 ? 'poison' : `clean ${id}`)),
    );
    release();
    await Promise.all([first, ...all]);
    expect(refused).toEqual(['c4']);
    const byId = new Map(written.map((e) => [e.job.invocationId, e.outcome]));
    expect([...byId.keys()].sort()).toEqual(['first', ...ids].sort());
    expect(written).toHaveLength(10); // each exactly once
    expect(byId.get('c3')).toMatchObject({ logs: 'clean c3', result: '"r"' });
    expect(byId.get('c4')).toMatchObject({ result: null, logsTruncated: true });
    expect(byId.get('c4')!.logs).toContain('database refused');
  });

  it('fails the batch, without splitting or stripping, when the refusal is not about its values', async () => {
    let writes = 0;
    const recorder = new BatchingRecorder(async () => {
      writes++;
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    });
    await expect(recorder.record(entry('a').job, entry('a').outcome)).rejects.toThrow('deadlock detected');
    expect(writes).toBe(1);
  });

  it('holds a batch while the database is unreachable and writes it when it returns', async () => {
    let calls = 0;
    const retries: number[] = [];
    const recorder = new BatchingRecorder(
      async () => {
        calls++;
        if (calls <= 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      { onRetry: (_err, attempt) => retries.push(attempt) },
    );
    await expect(recorder.record(entry('a').job, entry('a').outcome)).resolves.toBeUndefined();
    expect(calls).toBe(4);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('caps a batch at maxBatch', async () => {
    const sizes: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const recorder = new BatchingRecorder(
      async (entries) => {
        sizes.push(entries.length);
        if (sizes.length === 1) await gate;
      },
      { maxBatch: 2 },
    );
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => recorder.record(entry(id).job, entry(id).outcome));
    release();
    await Promise.all(all);
    expect(sizes).toEqual([1, 2, 2]);
  });
});
