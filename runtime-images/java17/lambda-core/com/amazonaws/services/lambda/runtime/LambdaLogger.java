package com.amazonaws.services.lambda.runtime;

import com.amazonaws.services.lambda.runtime.logging.LogLevel;

/** Writes to the invocation's logs (the same capture as System.out). */
public interface LambdaLogger {
    /** Writes {@code message} as is (no newline is added). */
    void log(String message);

    /** Writes the bytes as is. */
    void log(byte[] message);

    /** Hearth keeps no log levels: the message is written as {@link #log(String)} does. */
    default void log(String message, LogLevel logLevel) {
        log(message);
    }

    /** Hearth keeps no log levels: the bytes are written as {@link #log(byte[])} does. */
    default void log(byte[] message, LogLevel logLevel) {
        log(message);
    }
}
