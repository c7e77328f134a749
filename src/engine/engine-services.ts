import type { ChangeEvent } from '../domains/changes/shared/changes.js'

/**
 * What the engine lends the domains that need more than a call context (processes, changes): given
 * to every domain record's `create` (src/engine/domain-record.ts).
 */
export interface EngineServices {
  /** Listen to every change (local and, shared, other processes'). Returns unsubscribe. */
  subscribe(listener: (change: ChangeEvent) => void): () => void
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
  /** True once the engine is closing. */
  readonly closing: boolean
}
