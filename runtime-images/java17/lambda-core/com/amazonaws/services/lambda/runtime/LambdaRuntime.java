package com.amazonaws.services.lambda.runtime;

import java.nio.charset.StandardCharsets;

/**
 * The process-wide logger, for code that has no {@link Context} at hand.
 * Hearth's agent points it at the log capture before the function loads.
 */
public final class LambdaRuntime {
    private LambdaRuntime() {
    }

    private static volatile LambdaLogger logger = new LambdaLogger() {
        public void log(String message) {
            System.out.print(message);
        }

        public void log(byte[] message) {
            System.out.print(new String(message, StandardCharsets.UTF_8));
        }
    };

    public static LambdaLogger getLogger() {
        return logger;
    }
}
