/** Prometheus histogram buckets both deployables use, so their series line up. */

/** Seconds, for HTTP requests (the gateway's); invocations add the long timeouts. */
export const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
