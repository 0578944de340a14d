package io.hearth.agent;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A Throwable in Lambda's shape, as Lambda's Java runtime reports it:
 * {@code type} is the exception's class name, {@code message} its message
 * (the class name when it has none), {@code stack} the stack trace with the
 * agent's own frames (and the reflection frames that called the function)
 * removed, causes and suppressed exceptions included.
 */
final class ErrorInfo {
    private static final String AGENT_PACKAGE = "io.hearth.agent.";

    private ErrorInfo() {
    }

    /** The error member of a reply: {"type":..,"message":..,"stack":..}. */
    static String json(Throwable t) {
        String message = t.getLocalizedMessage() == null ? t.getClass().getName() : t.getLocalizedMessage();
        return json(t.getClass().getName(), message, stack(t));
    }

    /** The printed stack trace of {@code t}, the agent's frames removed. */
    static String stack(Throwable t) {
        filter(t, Collections.newSetFromMap(new IdentityHashMap<>()));
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }

    /** An error the agent reports itself (no exception of the function's behind it). */
    static String json(String type, String message, String stack) {
        StringBuilder out = new StringBuilder("{\"type\":");
        JsonWriter.quote(out, type).append(",\"message\":");
        JsonWriter.quote(out, message);
        if (stack != null) JsonWriter.quote(out.append(",\"stack\":"), stack);
        return out.append('}').toString();
    }

    private static void filter(Throwable t, Set<Throwable> seen) {
        if (t == null || !seen.add(t)) return;
        StackTraceElement[] trace = t.getStackTrace();
        for (int i = 0; i < trace.length; i++) {
            if (!trace[i].getClassName().startsWith(AGENT_PACKAGE)) continue;
            int end = i;
            while (end > 0 && isReflection(trace[end - 1])) end--;
            t.setStackTrace(java.util.Arrays.copyOf(trace, end));
            break;
        }
        filter(t.getCause(), seen);
        for (Throwable suppressed : t.getSuppressed()) filter(suppressed, seen);
    }

    private static boolean isReflection(StackTraceElement frame) {
        String name = frame.getClassName();
        return name.startsWith("jdk.internal.reflect.") || name.equals("java.lang.reflect.Method") || name.equals("java.lang.reflect.Constructor");
    }
}
