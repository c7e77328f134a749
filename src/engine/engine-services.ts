import type { EngineChange } from '../domains/changes/shared/changes.js'
import type { VaultSnapshot } from './engine-snapshot.js'

/**
 * What the engine lends the domains that need more than a call context (processes, changes): given
 * to every domain record's `create` (src/engine/domain-record.ts).
 */
export interface EngineServices {
  /** Listen to every change (local and, shared, other processes'). Returns unsubscribe. */
  subscribe(listener: (change: EngineChange) => void): () => void
  /** Resolves on the next change or after `timeoutMs`. */
  nextChange(timeoutMs: number): Promise<void>
  /** Shared mode: apply other processes' commits now. */
  refresh(): Promise<void>
  /** Lease of running processes in ms. */
  readonly processLeaseMs: number
  /**
   * URL of the folder holding the package's wasm assets beside sql.js's (DuckDB's `duckdb-*.wasm`), in a
   * browser; undefined on Node, where they are resolved from node_modules.
   */
  readonly assetBase: string | undefined
  /** Where the vault's log stands: its identity (name and creation time) and last sequence number. */
  commitPosition(): { vault: string; seq: number }
  /** Where a domain may keep a file of derived data (DuckDB's database for `vault.sql`); undefined: nowhere. */
  readonly derivedFile: DerivedFileHost | undefined
  /** True once the engine is closing. */
  readonly closing: boolean
  /** A consistent snapshot of the vault's files to export (src/engine/engine-snapshot.ts). */
  snapshot(): Promise<VaultSnapshot>
}

/**
 * A file of derived data beside the vault (DuckDB's database, a cache of the relations `vault.sql`
 * reads): rebuildable at any time, never part of the vault's own files. Given by the opener (the
 * browser worker: an OPFS file, src/worker/derived-file.ts); only one engine at a time may use it.
 */
export interface DerivedFileHost {
  /** The path DuckDB opens (`opfs://…` in a browser). */
  readonly path: string
  /** Take the file for this engine; false when it cannot have it. */
  acquire(): Promise<boolean>
  /** Give it back (at close). */
  release(): Promise<void>
  /** Delete it (stale or damaged), with DuckDB's side files. */
  remove(): Promise<void>
  /**
   * A file labvault writes itself (Node: duckdb-wasm cannot keep its own database file there): its
   * bytes, or undefined when there is none. Absent for a file DuckDB opens at `path` (OPFS).
   */
  read?(): Promise<Uint8Array | undefined>
  /** Replace the file's bytes whole and atomically (a reader sees the old file or the new one). */
  writeSync?(bytes: Uint8Array): void
}
