package io.hearth.agent;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The two operations the worker asks for: {@code init} (apply the function's
 * env and secrets, load its handler) and {@code invoke} (run it once). Each
 * replies with exactly one frame carrying the logs captured since the
 * previous reply. The reply owed is held in {@link #owed} until it is sent,
 * so the shutdown hook (ExitGuard) can answer for an operation that the
 * function ended with System.exit, and never twice.
 */
final class Operations {
    /** The operation whose reply has not been sent: "init", or an invocation id. */
    private final AtomicReference<String> owed = new AtomicReference<>();
    private static final String INIT = "\0init";

    private final Framing framing;
    private final LogCapture logs;
    private FunctionHandler handler;

    Operations(Framing framing, LogCapture logs) {
        this.framing = framing;
        this.logs = logs;
    }

    void init(Map<?, ?> msg) {
        long started = System.nanoTime();
        owed.set(INIT);
        String error = null;
        try {
            FunctionContext.applyInit(msg, logs);
            String codeDir = String.valueOf(msg.get("codeDir"));
            ClassLoader loader = TaskClassLoader.create(codeDir);
            Thread.currentThread().setContextClassLoader(loader);
            handler = HandlerLoading.load(String.valueOf(msg.get("handler")), loader);
        } catch (HandlerLoading.LoadFailure f) {
            error = ErrorInfo.json(f.type, f.getMessage(), f.getCause() == null ? null : ErrorInfo.stack(f.getCause()));
        } catch (Throwable t) {
            error = ErrorInfo.json(t);
        }
        StringBuilder reply = new StringBuilder("{\"type\":\"initResult\",\"ok\":").append(error == null);
        if (error != null) reply.append(",\"error\":").append(error);
        reply.append(",\"durationMs\":").append(elapsedMs(started));
        send(INIT, logsInto(reply).append('}').toString());
    }

    void invoke(Map<?, ?> msg) {
        long started = System.nanoTime();
        String id = String.valueOf(msg.get("id"));
        owed.set(id);
        String outcome;
        boolean fatal = false;
        try {
            if (handler == null) throw new IllegalStateException("invoke before a successful init");
            Object deadline = msg.get("deadlineMs");
            long deadlineMs = deadline instanceof Number ? ((Number) deadline).longValue() : Long.MAX_VALUE;
            Object event = msg.get("event");
            String eventJson = event instanceof JsonReader.RawJson ? ((JsonReader.RawJson) event).text : "null";
            String result = handler.invoke(eventJson, new FunctionContext(id, deadlineMs));
            outcome = "\"ok\":true,\"result\":" + result;
        } catch (FunctionHandler.ResponseTooLarge e) {
            outcome = "\"ok\":false,\"error\":" + ErrorInfo.json("Runtime.ResponseSizeTooLarge", e.getMessage(), null);
        } catch (Throwable t) {
            // As on Lambda, an error of the VM itself (out of memory, ...) ends the process after the reply.
            fatal = t instanceof VirtualMachineError;
            outcome = "\"ok\":false,\"error\":" + ErrorInfo.json(t);
        }
        StringBuilder head = new StringBuilder("{\"type\":\"invokeResult\",\"id\":");
        JsonWriter.quote(head, id).append(",\"durationMs\":").append(elapsedMs(started));
        if (fatal) head.append(",\"fatal\":true");
        logsInto(head).append(',');
        String text = head + outcome + "}";
        // One UTF-8 byte per char at least, three at most: only a long reply needs counting.
        if (text.length() * 3L > Framing.MAX_FRAME_BYTES && utf8Length(text) > Framing.MAX_FRAME_BYTES) {
            text = head + "\"ok\":false,\"error\":" + ErrorInfo.json("Runtime.ResponseSizeTooLarge",
                    "Response exceeds " + Framing.MAX_FRAME_BYTES + " bytes", null) + "}";
        }
        send(id, text);
        if (fatal) Runtime.getRuntime().halt(1);
    }

    /**
     * From the shutdown hook, when the function called System.exit: replies
     * for the operation in progress (if its reply is still owed) with
     * {@code Runtime.ExitError}, marked fatal. The process then exits.
     */
    void replyExit() {
        String pending = owed.get();
        if (pending == null) return;
        String error = ErrorInfo.json("Runtime.ExitError", "Runtime exited: the function called System.exit()", null);
        StringBuilder reply;
        if (pending.equals(INIT)) {
            reply = new StringBuilder("{\"type\":\"initResult\",\"ok\":false,\"fatal\":true,\"error\":").append(error);
        } else {
            reply = new StringBuilder("{\"type\":\"invokeResult\",\"id\":");
            JsonWriter.quote(reply, pending).append(",\"ok\":false,\"fatal\":true,\"error\":").append(error);
        }
        send(pending, logsInto(reply).append('}').toString());
    }

    /** Sends {@code text} if the reply for {@code operation} is still owed (one reply per operation). */
    private void send(String operation, String text) {
        if (!owed.compareAndSet(operation, null)) return;
        try {
            framing.send(text);
        } catch (Throwable e) {
            Bootstrap.die("cannot send a reply: " + e);
        }
    }

    private StringBuilder logsInto(StringBuilder out) {
        LogCapture.Drained drained = logs.drain();
        out.append(",\"logs\":");
        JsonWriter.quote(out, drained.text).append(",\"logsTruncated\":").append(drained.truncated);
        return out;
    }

    private static double elapsedMs(long started) {
        return Math.round((System.nanoTime() - started) / 1000.0) / 1000.0;
    }

    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }
}
