/**
 * What a new version takes from an existing one when only half of it
 * changes: its settings (new code, as Lambda's UpdateFunctionCode does) or
 * its code (new settings, as UpdateFunctionConfiguration does).
 */
import type { NewCode, VersionSettings, VersionView } from '../store/functions-store.ts';

/** A version's settings, exactly the fields a new version is created from. */
export function settingsOf(v: VersionView): VersionSettings {
  return {
    runtime: v.runtime,
    handler: v.handler,
    memoryMb: v.memoryMb,
    timeoutMs: v.timeoutMs,
    env: v.env,
    secrets: v.secrets ?? [],
    secretEnv: v.secretEnv ?? {},
    keepAliveMs: v.keepAliveMs,
    minWarm: v.minWarm,
    maxConcurrency: v.maxConcurrency,
    network: v.network,
    public: v.public,
  };
}

/**
 * The code of an existing version, to create a version with new settings and
 * the same code: only its address (`tarGz: null` reuses the stored blob, and
 * the new version's foreign key fails if it were ever gone).
 */
export function sameCodeAs(v: VersionView): NewCode {
  return { sha256: v.codeSha256, tarGz: null, format: v.codeFormat, fileCount: 0, unpackedBytes: 0 };
}
