package com.amazonaws.services.lambda.runtime.logging;

/** Lambda's log levels, accepted (and ignored) by {@code LambdaLogger}. */
public enum LogLevel {
    UNDEFINED, TRACE, DEBUG, INFO, WARN, ERROR, FATAL;

    /** The level named {@code value} (any case), else UNDEFINED. */
    public static LogLevel fromString(String value) {
        if (value == null) return UNDEFINED;
        try {
            return LogLevel.valueOf(value.toUpperCase());
        } catch (IllegalArgumentException e) {
            return UNDEFINED;
        }
    }
}
