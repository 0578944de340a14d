package com.amazonaws.services.lambda.runtime;

/**
 * A handler that takes a typed event and returns a typed result: Hearth's
 * agent reads the event's JSON into {@code I} and writes the returned
 * {@code O} as JSON, as Lambda's Java runtime does.
 *
 * @param <I> the event type
 * @param <O> the result type
 */
public interface RequestHandler<I, O> {
    /** Handles one invocation. */
    O handleRequest(I input, Context context);
}
