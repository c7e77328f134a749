/**
 * Types of the engine's surface that every layer above storage shares: the settings an engine is
 * opened with, what a call carries of its handle's options, and what `vault.info()` returns.
 */

/** `strict`: a write resolves once durable. `relaxed`: at once, flushed within ~100 ms. */
export type Durability = 'strict' | 'relaxed'

/** What opening found and repaired, reported by `vault.info().recovery`. */
export interface RecoveryReport {
  /** Log records replayed on top of the image. */
  replayedRecords: number
  /** Bytes of a torn or corrupt log tail that were dropped (never applied). */
  droppedBytes: number
  /**
   * What opening had to work around, in words (a lost manifest slot, a damaged log header with
   * `repair`, …); empty for a vault that opened as it was left.
   */
  repairs: string[]
}

/** The settings every engine takes, whatever runs it (Node, a worker, the page). */
export interface VaultSettings {
  /** false: NotFoundError when the vault does not exist. Default true. */
  create?: boolean
  readOnly?: boolean
  /** Open a damaged vault anyway (docs/format.md, "Repair"): may drop acknowledged commits. */
  repair?: boolean
  author?: string
  description?: string
  durability?: Durability
  /** Checkpoint once the log holds this many bytes (and at least as many as the image). Default 16 MiB. */
  checkpointBytes?: number
  /** Lease of running processes (their holders renew it at a third). Default 10 s. */
  processLeaseMs?: number
}


/**
 * What one call carries of its handle's options: several handles (in one process, or tabs whose
 * calls the leader runs) share one engine, and each keeps its own. Unset: the engine's own.
 */
export interface CallOptions {
  /** `strict`: the call's writes are synced before it resolves; `relaxed`: flushed shortly after. */
  durability?: Durability
  /** The calling handle may not write: a write method, transaction or checkpoint is refused (UnsupportedError). */
  readOnly?: boolean
}


/** What `vault.optimize()` returns: the size of the database image plus its log, before and after. */
export interface OptimizeResult {
  /** Bytes of the image and the log before the VACUUM. */
  bytesBefore: number
  /** Bytes of the fresh image and the empty log after it. */
  bytesAfter: number
}

/** What `vault.info()` returns. */
export interface VaultInfo {
  /** The vault's name. */
  name: string
  /** Who created it (`author` given to `openVault` when it was created). */
  author: string
  /** Its description (`description` given when it was created; empty when none). */
  description: string
  /** ISO 8601 time the vault was created. */
  createdAt: string
  /** The storage adapter's kind: `memory`, `fs`, `opfs`, `indexeddb` or a custom adapter's. */
  storage: string
  /** Bytes used: image + log + blobs. */
  sizeBytes: number
  /** The on-disk format version of the vault. */
  formatVersion: number
  /** The durability of this handle's commits (docs/durability.md). */
  durability: Durability
  /** True when this handle may not write. */
  readOnly: boolean
  /** What opening replayed and dropped. */
  recovery: RecoveryReport
  /** The origin's storage estimate (browsers), when requested and available. */
  storageEstimate?: { usage?: number; quota?: number; persisted?: boolean }
  /** Browser: whether this tab runs the engine (`leader`) or forwards its calls (`follower`); docs/sharing.md, "Several tabs and workers". */
  tabRole?: 'leader' | 'follower'
}

