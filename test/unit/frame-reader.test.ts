import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { checkAgentMessage } from '../../worker/sandbox/agent-messages.ts';
import { ProtocolError } from '../../worker/sandbox/agent-protocol.ts';
import { INLINE_FRAME_BYTES, readFrame } from '../../worker/sandbox/frame-reader.ts';

const frame = (text: string) => Buffer.from(text, 'utf8');
const result = (value: string, pad = 0) => frame(`{"type":"invokeResult","id":"i","ok":true,"logs":"${'x'.repeat(pad)}","logsTruncated":false,"result":${value}}`);

describe('reading agent frames', () => {
  for (const [where, pad] of [['inline', 0], ['on the parsing thread', INLINE_FRAME_BYTES]] as const) {
    it(`${where}: takes the result out as JSON text the worker serialised`, async () => {
      const read = await readFrame(result('{ "a" : [1, 2.50, "\\u00e9"] }', pad));
      expect(read.result).toEqual({ json: '{"a":[1,2.5,"é"]}' });
      const message = checkAgentMessage(read.message, read.result);
      expect(message).toMatchObject({ type: 'invokeResult', id: 'i', ok: true, resultJson: '{"a":[1,2.5,"é"]}' });
      expect(message).not.toHaveProperty('result');
    });

    it(`${where}: a result too deep to serialise is unserialisable, not an error of the reader`, async () => {
      const read = await readFrame(result('['.repeat(100_000) + ']'.repeat(100_000), pad));
      expect(read.result).toMatchObject({ unserialisable: expect.stringMatching(/call stack/) });
      const message = checkAgentMessage(read.message, read.result);
      expect(message.type === 'invokeResult' && message.resultJson).toBeInstanceOf(Error);
    });

    it(`${where}: a frame that is not JSON is a ProtocolError`, async () => {
      await expect(readFrame(frame(`{"type":"hello",${' '.repeat(pad)}`))).rejects.toBeInstanceOf(ProtocolError);
    });
  }

  it('a result-less invokeResult stands for null, and a result in any other message is dropped', async () => {
    const none = await readFrame(frame('{"type":"invokeResult","id":"i","ok":true,"logs":"","logsTruncated":false}'));
    expect(checkAgentMessage(none.message, none.result)).toMatchObject({ resultJson: 'null' });
    const init = await readFrame(frame('{"type":"initResult","ok":true,"logs":"","logsTruncated":false,"result":[1]}'));
    expect(checkAgentMessage(init.message, init.result)).not.toHaveProperty('result');
  });

  it('a 12 MB frame of four million empty arrays never holds the event loop the way JSON.parse does', async () => {
    const body = result('[' + Array(4_000_000).fill('[]').join(',') + ']');
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const read = await readFrame(body);
    delay.disable();
    expect('json' in read.result! && read.result.json.length).toBe(body.length - result('').length);
    const started = performance.now();
    JSON.parse(body.toString('utf8'));
    const parseMs = performance.now() - started;
    const worstMs = delay.max / 1e6;
    console.log(`[frame-reader] 12 MB frame: worst loop delay ${worstMs.toFixed(0)} ms while read on the thread; JSON.parse here takes ${parseMs.toFixed(0)} ms`);
    // The copy to the thread and the result text back are the only work left on the loop.
    expect(worstMs).toBeLessThan(parseMs / 2);
  });
});
