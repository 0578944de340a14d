import { describe, expect, it } from 'vitest';
import { FrameDecoder, MAX_FRAME_BYTES, ProtocolError, encodeFrame, encodeInvokeFrame } from '../../worker/sandbox/agent-protocol.ts';

describe('agent frames', () => {
  it('round-trips messages split at every byte boundary', () => {
    const frames = Buffer.concat([
      encodeFrame({ type: 'hello', runtime: 'nodejs20', agentVersion: 1 }),
      encodeInvokeFrame('id-1', '{\n  "pretty": ["json", "with\\nnewlines"]\n}', 123),
    ]);
    for (let cut = 0; cut <= frames.length; cut++) {
      const decoder = new FrameDecoder();
      const messages = [...decoder.push(frames.subarray(0, cut)), ...decoder.push(frames.subarray(cut))];
      expect(messages).toEqual([
        { type: 'hello', runtime: 'nodejs20', agentVersion: 1 },
        { type: 'invoke', id: 'id-1', deadlineMs: 123, event: { pretty: ['json', 'with\nnewlines'] } },
      ]);
    }
  });

  it('rejects oversized and non-JSON frames', () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1);
    expect(() => new FrameDecoder().push(huge)).toThrow(ProtocolError);
    const garbage = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);
    expect(() => new FrameDecoder().push(garbage)).toThrow(ProtocolError);
  });
});
