package io.hearth.agent;

import java.util.Map;

/**
 * System.exit (or Runtime.exit) in function code ends the process, as on
 * Lambda; a shutdown hook first answers the operation in progress with a
 * fatal {@code Runtime.ExitError} (and its logs), so the worker records a
 * crash with what the function printed rather than a bare lost connection.
 * Only an exit the function asked for is answered: SIGTERM (`docker stop`)
 * runs the same hooks from the JVM's signal thread, with no Runtime.exit
 * frame on any stack, and ends with 143 and no reply. Runtime.halt skips
 * hooks entirely: the worker then sees the exit code alone.
 */
final class ExitGuard {
    private ExitGuard() {
    }

    static void install(Operations operations) {
        Thread hook = new Thread(() -> {
            if (exitRequested()) operations.replyExit();
        }, "hearth-exit-guard");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether some thread is inside Runtime.exit (System.exit calls it). */
    private static boolean exitRequested() {
        for (Map.Entry<Thread, StackTraceElement[]> entry : Thread.getAllStackTraces().entrySet()) {
            for (StackTraceElement frame : entry.getValue()) {
                if (frame.getClassName().equals("java.lang.Runtime") && frame.getMethodName().equals("exit")) return true;
            }
        }
        return false;
    }
}
