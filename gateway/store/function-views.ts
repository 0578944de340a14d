/**
 * The shapes of functions and versions as the store reads and writes them,
 * shared by the store's files, the routes and the CLI. No database here.
 */
import type { FunctionSettings } from '../deploy/function-settings.ts';
import type { NamespaceQuotas } from './namespace-quotas.ts';
import { DEFAULT_PROVISIONED_MEMORY_MB } from './provisioned-memory.ts';

/** A version's settings: exactly what a deploy validates (`function-settings.ts`). */
export type VersionSettings = FunctionSettings;

export interface NewCode {
  sha256: string;
  /** The archive, or null to reuse code already stored under `sha256` (it must exist). */
  tarGz: Buffer | null;
  format: string;
  fileCount: number;
  unpackedBytes: number;
}

export interface VersionView extends VersionSettings {
  version: number;
  codeSha256: string;
  codeSizeBytes: number;
  codeFormat: string;
  createdAt: string;
}

export interface FunctionView {
  name: string;
  namespace: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  latest: VersionView;
}

/** What a deploy answers: the function with its new latest version, and the old versions it pruned to stay under the quota. */
export interface DeployedFunction extends FunctionView {
  /** The version the deploy created (latest too, unless the deploy left latest where it was). */
  createdVersion: number;
  prunedVersions: number[];
}

/** A page of functions by name: up to `limit` after the name `after` (exclusive). */
export interface FunctionQuery {
  limit: number;
  after?: string;
}

/** How many versions a function view carries at most; older ones are paged by `listVersions`. */
export const VIEW_VERSIONS = 50;

export interface FunctionDetails extends FunctionView {
  /** The newest versions, newest first: at most `VIEW_VERSIONS`. */
  versions: VersionView[];
  /**
   * Null when `versions` holds every version; else the cursor of the next
   * (older) page: `GET /v1/functions/{name}/versions?cursor=`.
   */
  versionsNextCursor: string | null;
}

/** Which versions `listVersions` reads: up to `limit`, in `order`, beyond the version `beyond` (exclusive). */
export interface VersionQuery {
  limit: number;
  order: 'newest-first' | 'oldest-first';
  beyond?: number;
}

/** What an invocation needs to know about the version it runs. */
export interface ResolvedVersion extends VersionSettings {
  functionId: string;
  name: string;
  namespace: string;
  version: number;
  codeSha256: string;
  /** The function's async invoke configuration (`function-extras-store.ts`); absent or null: the platform's defaults. */
  asyncRetries?: number | null;
  maxEventAgeMs?: number | null;
  /** Which of the function's destinations are set (`gateway/destinations/`); absent or null: none. */
  destinations?: { onSuccess: boolean; onFailure: boolean } | null;
}

/** Limits the store enforces when it writes. */
export interface FunctionStoreLimits {
  /** Provisioned memory (minWarm × memoryMb) a namespace may hold when its row sets none. */
  defaultProvisionedMemoryMb: number;
  /** Storage and count quotas of a namespace whose row sets none. */
  quotas?: NamespaceQuotas;
}

/** The limits of a store built without any: the built-in defaults. */
export const DEFAULT_LIMITS: FunctionStoreLimits = { defaultProvisionedMemoryMb: DEFAULT_PROVISIONED_MEMORY_MB };
