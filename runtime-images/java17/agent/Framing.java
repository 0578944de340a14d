package io.hearth.agent;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;

/**
 * The agent's side of the socket: frames of a 4-byte big-endian length and
 * that many bytes of UTF-8 JSON. Reading runs on a thread of its own, so the
 * worker closing the socket ends the process even while a handler runs.
 */
final class Framing {
    /** Mirrors MAX_FRAME_BYTES in worker/sandbox/agent-protocol.ts. */
    static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;

    private final SocketChannel channel;

    Framing(SocketChannel channel) {
        this.channel = channel;
    }

    /** Sends one frame holding {@code json}. Thread-safe: a shutdown hook may reply too. */
    synchronized void send(String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer head = ByteBuffer.allocate(4).putInt(body.length).flip();
        ByteBuffer[] frame = {head, ByteBuffer.wrap(body)};
        while (frame[1].hasRemaining()) channel.write(frame);
    }

    /**
     * Reads frames into {@code inbox} until the socket ends. The worker closing
     * it ends the agent (exit 0: there is no one left to answer); a frame that
     * is too large or not JSON ends it with 1. Neither runs shutdown hooks.
     */
    void readFrames(BlockingQueue<Object> inbox) {
        ByteBuffer head = ByteBuffer.allocate(4);
        try {
            for (;;) {
                head.clear();
                if (!fill(head)) Runtime.getRuntime().halt(0);
                int length = head.flip().getInt();
                if (length < 0 || length > MAX_FRAME_BYTES) Bootstrap.die("frame of " + Integer.toUnsignedString(length) + " bytes exceeds " + MAX_FRAME_BYTES);
                ByteBuffer body = ByteBuffer.allocate(length);
                if (!fill(body)) throw new EOFException("the socket ended inside a frame");
                String text = new String(body.array(), StandardCharsets.UTF_8);
                try {
                    inbox.put(JsonReader.parseMessage(text));
                } catch (JsonReader.JsonException e) {
                    Bootstrap.die("malformed frame: " + e.getMessage());
                }
            }
        } catch (IOException e) {
            // A reset or an end mid-frame: the worker is gone either way.
            Runtime.getRuntime().halt(0);
        } catch (InterruptedException e) {
            Bootstrap.die("reader interrupted");
        }
    }

    /** Fills {@code buffer}; false if the socket ended before the first byte. */
    private boolean fill(ByteBuffer buffer) throws IOException {
        boolean started = false;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer);
            if (n < 0) {
                if (!started) return false;
                throw new EOFException("the socket ended inside a frame");
            }
            started = true;
        }
        return true;
    }
}
