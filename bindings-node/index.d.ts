// Hand-written types of the public facade (index.js). The native layer's types are generated
// by `napi build` into binding.d.ts (`ConfigText` is re-exported from there). The options are
// core's (the addon passes the object through to `Options::from_map`): `ManagerOptions` below
// is checked against core's description by core/tests/options_described.rs.
import type { ConfigText } from './binding'

export type { ConfigText }

/**
 * Where the secret is and how it is cached. Every option is optional: a missing location is
 * taken from `STARFLEET_SECRET_ID` / `STARFLEET_SECRET_REGION`, then from the Starfleet
 * configuration (`config`, else `STARFLEET_CONFIG`). Names, types and ranges are checked by
 * core (INVALID_ARGUMENT naming the option).
 */
export interface ManagerOptions {
  /** Secret name or ARN. */
  secretId?: string
  /** AWS region of the secret, e.g. `us-east-2`. */
  region?: string
  /** A Starfleet configuration: a YAML file, a directory of `*.yaml` files, or inline YAML (see `Options` for the other forms). */
  config?: string | ConfigText
  /** Seconds a fetched value is served (default 300, or `STARFLEET_SECRETS_TTL`); `0` = fetch on every access, `"never"` = keep for the life of the process. */
  ttl?: number | string
  /** Staging label to read (default `AWSCURRENT`). */
  versionStage?: string
  /** One exact VersionId to read (instead of a stage). */
  versionId?: string
  /** Seconds past its TTL a value may still be served while refreshes fail (default 900, or `STARFLEET_SECRETS_MAX_STALE`); `0` disables stale-if-error. */
  maxStale?: number
  /** Deadline in seconds for one fetch, retries and fallback regions included (default 10, or `STARFLEET_SECRETS_TIMEOUT`). */
  timeout?: number
  /** Secrets Manager endpoint (default: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL`, else AWS). */
  endpointUrl?: string
  /** Refresh in the background once a value is this fraction of its TTL old (e.g. `0.8`), so reads never wait for a fetch after the first (default off, or `STARFLEET_SECRETS_REFRESH_AHEAD`). */
  refreshAhead?: number
  /** Expire values up to this fraction of the TTL early, by a per-process random share, so a fleet started together does not refresh in lockstep (default 0.1, or `STARFLEET_SECRETS_EXPIRY_JITTER`; `0` = off). */
  expiryJitter?: number
  /** Replica regions read from, in order, when the secret's region fails with NETWORK, TIMEOUT, SERVICE or THROTTLED; all regions share the one `timeout` (default `STARFLEET_SECRET_FALLBACK_REGIONS`, comma-separated; `[]` = none). `stats().region` says which region served. */
  fallbackRegions?: string[]
  /** Where the secret is read from: `"secretsmanager"` (default), `"file:<path>"` (a mounted file, e.g. Kubernetes' Secrets Store CSI driver), `"env:<NAME>"` (an environment variable, e.g. ECS `secrets`) or `"flyte:<group>/<key>"` (Flyte's injected secret); default `STARFLEET_SECRET_SOURCE`, else the configuration's `Source`. */
  source?: string
  /** Before a snapshot (`beforeSnapshot()`, e.g. SnapStart), wipe the cached value and zero freed memory, so no plaintext secret is in the snapshot; the first read after the restore fetches (default `STARFLEET_SECRETS_ZEROIZE_BEFORE_SNAPSHOT`, else off). */
  zeroizeBeforeSnapshot?: boolean
}

/** A Starfleet configuration the host application already loaded (only `STARFLEET` is read). */
export type StarfleetConfiguration = { readonly [key: string]: unknown }

/** Every form of a Starfleet configuration `config` takes directly. */
export type ConfigForm = string | ConfigText | StarfleetConfiguration

/**
 * The options of `new SecretsManager()` and `configure()`: `ManagerOptions`, with `config` also
 * a parsed configuration object or a function returning any form (consulted at each load).
 */
export interface Options extends Omit<ManagerOptions, 'config'> {
  config?: ConfigForm | (() => ConfigForm)
}

/** The stable error codes shared by every language. */
export type Code =
  | 'CONFIG_MISSING'
  | 'CONFIG_INVALID'
  | 'SECRET_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'DECRYPTION_FAILED'
  | 'CREDENTIALS'
  | 'THROTTLED'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'SERVICE'
  | 'SECRET_FORMAT'
  | 'KEY_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'INTERNAL'

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/** The secret document: a frozen plain object parsed from the SecretString. */
export type SecretDocument = { readonly [key: string]: JsonValue }

/** A key path: literal keys, or one dotted string (`'GitHubSyncWorker.my\\.org'`). */
export type KeyPath = [string, ...string[]]

/**
 * Every error of the package. `code` is the stable core code; the message names the secret,
 * region or key path and never contains a secret value.
 */
export declare class StarfleetSecretsError extends Error {
  readonly code: Code
  /** The stable number of the code (the C enum value, 1-based). */
  readonly number: number
  /** Whether retrying later could succeed without anyone changing anything (throttling, timeouts, network, service errors). */
  readonly transient: boolean
  name: 'StarfleetSecretsError'
  toJSON(): { name: 'StarfleetSecretsError'; code: Code; message: string }
}

/** What `stats()` returns (the same field names in every language). */
export interface Stats {
  /** Accesses answered from a fresh cached value. */
  hits: number
  /** Accesses that found no fresh value. */
  misses: number
  /** GetSecretValue calls made (successful or not). */
  fetches: number
  /** Calls that failed. */
  failures: number
  /** Accesses answered with a stale value because refreshing failed. */
  stale_served: number
  /** Background refreshes made by refresh-ahead (successful or not; also in `fetches`). */
  refreshes_ahead: number
  /** Unix time (seconds) of the last successful fetch. */
  last_refresh: number | null
  /** VersionId of the cached value. */
  version_id: string | null
  /** Code of the last failure, cleared by the next success. */
  last_error: Code | null
  /** How many testing overrides (`pin()`) are in force. */
  testing_overrides: number
  /** The region that served the cached value (a fallback region after a failover); null before. */
  region: string | null
  /** How many times a fetch moved on from a failing region to the next (`fallbackRegions`). */
  failovers: number
  /** How many GetSecretValue requests were sent again on a new connection, after a reused pooled connection stayed silent or while one was still being opened (at most two per read). */
  hedges: number
  /**
   * How many times a fallback region answered with an older version than the cached one (a
   * lagging replica): never stored, never an `onChange` call; the read went on as if that
   * region had failed.
   */
  older_replica_answers: number
  /** How many restores from a snapshot `afterRestore()` reported. */
  restores: number
}

/**
 * Reads one secret and keeps it: lazy, single-flight (concurrent first accesses make one
 * API call), TTL, stale-if-error. Promise methods run on the library's own threads and never
 * block the event loop; synchronous methods only read the cache.
 */
export declare class SecretsManager {
  constructor(options?: Options)
  /** The whole document (fetched if needed); the same frozen object while the VersionId is unchanged. */
  secrets(): Promise<SecretDocument>
  /**
   * The value at a key path (fetched if needed); KEY_NOT_FOUND when it does not exist. Objects
   * are the frozen objects of `secrets()`.
   */
  get<T = JsonValue>(...path: KeyPath): Promise<T>
  /** The string at a key path (fetched if needed); SECRET_FORMAT when the value there is not a string. */
  getString(...path: KeyPath): Promise<string>
  /** Fetch now, whatever the cache holds; resolves to the document (a Buffer for a binary secret). */
  refresh(): Promise<SecretDocument | Buffer>
  /** A SecretBinary secret; the same Buffer while the VersionId is unchanged (do not modify it). */
  secretBinary(): Promise<Buffer>
  /** The cached value at a key path, or `undefined` when nothing fresh is cached. Never does network I/O. */
  cached<T = JsonValue>(...path: KeyPath): T | undefined
  /** The whole cached document, or `undefined` when nothing fresh is cached. */
  cached(): SecretDocument | undefined
  /**
   * For a custom runtime's snapshot hook (Lambda SnapStart: just before `GET
   * /runtime/restore/next`): drops the pooled connections and, with `zeroizeBeforeSnapshot`,
   * the cached value (the next access fetches). Never waits on the network.
   */
  beforeSnapshot(): void
  /**
   * For a custom runtime's restore hook: a new expiry-jitter share, no connection or
   * credentials from before the snapshot, every cached value due (the next access fetches
   * once). Counted in `stats().restores`. Never waits on the network.
   */
  afterRestore(): void
  /** Forget the cached value and any failure backoff; the next access fetches. */
  invalidate(): void
  /**
   * Call `callback(oldVersionId, newVersionId)` (old null on the first load) on the JS thread
   * after each fetch that brings a new VersionId (never values; testing overrides never call
   * it). Returns the function that stops it: no call runs after it returns. A throw is
   * reported as a process warning (code `STARFLEET_SECRETS_ON_CHANGE`) and never breaks the
   * read. The subscription never keeps the process alive.
   */
  onChange(callback: (oldVersionId: string | null, newVersionId: string) => void): () => void
  /** Counters and cache state. */
  stats(): Stats
  /** Point this manager at another secret or change its caching; the cache starts empty. */
  configure(options?: Options): void
  /**
   * Serve this document (or Buffer) instead of AWS until `unpin()`: for unit tests. Overrides
   * nest (the innermost is served); returns the token `unpin(token)` takes.
   */
  pin(value: SecretDocument | Record<string, unknown> | Uint8Array): number
  /**
   * Undo the override `token` names (the innermost one without a token). INVALID_ARGUMENT when
   * one pinned after it is still in force, or when there is none to undo.
   */
  unpin(token?: number): void
  /** Location and cache settings only, never a value. */
  toJSON(): Record<string, unknown>
}

/** This realm's manager, located from the environment and the Starfleet configuration. */
export declare const SECRETS_MANAGER: SecretsManager

/** `codes.SECRET_NOT_FOUND === 'SECRET_NOT_FOUND'`, and so on for every code. */
export declare const codes: { readonly [K in Code]: K }

/** Version of the Rust core the addon was built from. */
export declare const coreVersion: string
