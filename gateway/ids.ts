/** The shapes of the names and ids the API accepts. */

/** A function or namespace name: a DNS label (lowercase letters, digits, inner dashes; 1–63 characters). */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** An invocation or key id (lowercase UUID). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
