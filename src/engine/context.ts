import type { BlobStore } from '../persistence/blob-store.js'
import type { SqliteDatabase } from '../sqlite/sqlite-database.js'

/**
 * What a domain method sees of the engine for one call: the database for reads, `write` for
 * changes (queued and group-committed, or part of the caller's open transaction), and the blobs.
 */
export interface CallContext {
  readonly db: SqliteDatabase
  /**
   * Content-addressed bulk bytes. `put` before the write that refers to the blob, then `unpin`
   * the hash once that write settled (in a `finally`): until then a checkpoint will not collect it.
   */
  readonly blobs: BlobStore
  /** Run a synchronous change; resolves once it is committed (durably, for a plain call). */
  write<T>(fn: () => T): Promise<T>
  /** True when the call belongs to a user transaction (its changes commit with it). */
  readonly inTransaction: boolean
  /**
   * The format version of the vault's current generation (its manifest's; src/persistence/format.ts):
   * a domain writes rows that only newer readers understand when this is at least their version,
   * so a vault an older build may still open never holds them. Absent: assume 1.
   */
  readonly formatVersion?: number
  /**
   * Resolves once every write submitted so far has run (shared mode: writes may wait for the write
   * lock), so that a read made then sees them. Absent: writes run when submitted.
   */
  readonly writesRun?: () => Promise<void>
  /** The member (another tab or worker) that forwarded this call, for calls that need to know (a watch's poll). */
  readonly caller?: string
}

/** A domain's schema and blob references, registered with the engine. */
export interface DomainSchema {
  /** SQL run once when a vault is created (CREATE TABLE …). Also run, idempotently, on open. */
  schema: string
  /** Queries returning one column of blob hashes still referenced (garbage collection keeps them). */
  blobReferences?: string[]
}
