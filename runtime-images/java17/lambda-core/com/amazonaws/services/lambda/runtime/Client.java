package com.amazonaws.services.lambda.runtime;

/** The mobile client of a {@link ClientContext}. */
public interface Client {
    String getInstallationId();

    String getAppTitle();

    String getAppVersionName();

    String getAppVersionCode();

    String getAppPackageName();
}
