package com.amazonaws.services.lambda.runtime;

/** What a handler learns about the function and the invocation in progress. */
public interface Context {
    /** The invocation's id (Hearth's invocation id). */
    String getAwsRequestId();

    String getLogGroupName();

    String getLogStreamName();

    String getFunctionName();

    String getFunctionVersion();

    String getInvokedFunctionArn();

    /** Always null on Hearth (no Cognito). */
    CognitoIdentity getIdentity();

    /** Always null on Hearth (no mobile SDK client context). */
    ClientContext getClientContext();

    /** Milliseconds left before the invocation's deadline (0 once it has passed). */
    int getRemainingTimeInMillis();

    int getMemoryLimitInMB();

    /** A logger whose lines land in the invocation's logs. */
    LambdaLogger getLogger();

    /** Always null on Hearth (no X-Ray). */
    default String getXrayTraceId() {
        return null;
    }

    /** Always null on Hearth (no tenant isolation mode). */
    default String getTenantId() {
        return null;
    }
}
