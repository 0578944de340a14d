package com.amazonaws.services.lambda.runtime;

import java.util.Map;

/** Lambda's mobile client context; Hearth never provides one. */
public interface ClientContext {
    Client getClient();

    Map<String, String> getCustom();

    Map<String, String> getEnvironment();
}
