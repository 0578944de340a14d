package com.amazonaws.services.lambda.runtime;

/** Lambda's Cognito identity; Hearth never provides one. */
public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
