package io.hearth.agent;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * System.out and System.err (hence printStackTrace, java.util.logging's
 * console handler, and the LambdaLogger) write into one capped buffer, which
 * each reply drains: init's into initResult.logs, an invocation's (with what
 * was written between invocations) into its invokeResult.logs. Writes past
 * the cap are counted, not kept; the drained text then ends with
 * {@code [hearth] log truncated: N bytes dropped}. Thread-safe: function code
 * may log from any thread. Writes straight to file descriptors 1 and 2
 * (child processes, native code) bypass it and land in {@code docker logs}.
 */
final class LogCapture extends OutputStream {
    /** Mirrors LOG_CAP_BYTES in worker/sandbox/agent-protocol.ts. */
    static final int LOG_CAP_BYTES = 64 * 1024;
    /** Room kept under the cap for the truncation marker, so logs never exceed it. */
    private static final int MARKER_RESERVE_BYTES = 96;

    private final byte[] kept = new byte[LOG_CAP_BYTES];
    private int size;
    private long total;

    private LogCapture() {
    }

    /** Points System.out and System.err at a new capture and returns it. */
    static LogCapture install() {
        LogCapture capture = new LogCapture();
        PrintStream stream = new PrintStream(capture, true, StandardCharsets.UTF_8);
        System.setOut(stream);
        System.setErr(stream);
        return capture;
    }

    @Override
    public synchronized void write(int b) {
        if (size < kept.length) kept[size++] = (byte) b;
        total++;
    }

    @Override
    public synchronized void write(byte[] data, int offset, int length) {
        int room = Math.min(kept.length - size, length);
        if (room > 0) {
            System.arraycopy(data, offset, kept, size, room);
            size += room;
        }
        total += length;
    }

    /** Text for a reply's {@code logs}, and whether it was cut. */
    static final class Drained {
        final String text;
        final boolean truncated;

        Drained(String text, boolean truncated) {
            this.text = text;
            this.truncated = truncated;
        }
    }

    /** Everything captured since the last drain, capped at LOG_CAP_BYTES. */
    synchronized Drained drain() {
        long all = total;
        int n = size;
        size = 0;
        total = 0;
        if (all <= LOG_CAP_BYTES) return new Drained(new String(kept, 0, n, StandardCharsets.UTF_8), false);
        int keep = LOG_CAP_BYTES - MARKER_RESERVE_BYTES;
        // Never cut through a UTF-8 sequence: back up to the start of a character.
        while (keep > 0 && (kept[keep] & 0xC0) == 0x80) keep--;
        String head = new String(kept, 0, keep, StandardCharsets.UTF_8);
        String newline = head.isEmpty() || head.endsWith("\n") ? "" : "\n";
        return new Drained(head + newline + "[hearth] log truncated: " + (all - keep) + " bytes dropped\n", true);
    }
}
