package com.amazonaws.services.lambda.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A handler that reads the event's raw JSON bytes and writes its result's
 * bytes itself (no serialisation by the runtime).
 */
public interface RequestStreamHandler {
    /** Handles one invocation: {@code input} is the event's JSON, {@code output} receives the result. */
    void handleRequest(InputStream input, OutputStream output, Context context) throws IOException;
}
