import type * as arrow from 'apache-arrow'
import type { Table } from 'apache-arrow'
import type { BuilderSpec } from '../../shared/builder-types.js'

/**
 * The contract between the tables domain (storage, processes, locks) and the compute engine (this
 * folder): what `computeInstance` needs and what it hands back. README.md beside this file explains
 * each piece with an example.
 */

/** A concrete table instance. */
export interface InstanceRef {
  readonly table: string
  readonly instanceId: string
}

/**
 * How the executor reads other tables (the tables domain implements it over its storage). Every
 * method rejects with NotFoundError naming the table (or instance) when it does not exist.
 */
export interface TableSource {
  /**
   * The instance a reference means: `instance` when given (checked to exist), else the table's
   * latest materialised instance (what `tables.get(table)` would read).
   */
  resolveInstance(table: string, instance?: string): Promise<string>
  /**
   * One instance's rows as Arrow. `columns`, when given, are the ones the executor needs; returning
   * more is allowed. A column's table dtype travels in its field metadata (`labvault.dtype`,
   * table-arrow.ts); without it the Arrow values are taken as they are.
   */
  read(table: string, instanceId: string, columns?: readonly string[]): Promise<Table>
}

/** The origin instance, whose rows may be reused (row reuse, README.md). */
export interface OriginInstance {
  readonly instanceId: string
  /** Its rows: at least the primary-key columns and the columns of the builders that may be reused. */
  readonly table: Table
  /** The fingerprint each of its builders had when it was computed (`ComputeResult.fingerprints`). */
  readonly fingerprints: Readonly<Record<string, string>>
}

/** Progress of one builder: rows done (reused ones included) out of the index's row count. */
export interface BuilderProgress {
  readonly builder: string
  readonly done: number
  readonly total: number
  /** How many of `done` were copied from the origin instead of computed. */
  readonly reused: number
}

/** What one builder produced (handed to `onBuilderDone` as soon as it finishes). */
export interface BuilderResult {
  readonly builder: string
  readonly kind: 'index' | 'column'
  /** Hash of the builder's spec, its code module's source and its dependencies' instance ids. */
  readonly fingerprint: string
  /** The builder's changedColumns, one row per index row (for the index builder: the index). */
  readonly columns: Table
  /** The instances this builder read, resolved. */
  readonly dependencies: readonly InstanceRef[]
  readonly computed: number
  readonly reused: number
}

/** Everything `computeInstance` needs. */
export interface ComputeRequest {
  /** The table being built. */
  readonly table: string
  /** The instance being built (its temporary id, e.g. `TEMP_base`). */
  readonly instanceId: string
  /** The instance's builders, in any order (the executor orders them; planBuilders errors surface here). */
  readonly builders: readonly BuilderSpec[]
  /** A code module's source text by name (NotFoundError when missing). */
  readonly code: (module: string) => Promise<string>
  /** Reader of other tables. */
  readonly source: TableSource
  /** Rows to reuse from; none = compute everything. */
  readonly origin?: OriginInstance
  /** Recompute every row even when nothing changed. */
  readonly force?: boolean
  /**
   * Results of builders already finished by an earlier, paused run of this instance (from
   * `onBuilderDone`): they are not run again, and later builders read their columns.
   */
  readonly completed?: readonly BuilderResult[]
  /** What the keywords `~artifactFolder~` / `~processId~` and `ctx.artifactFolder` / `ctx.processId` are. */
  readonly artifactFolder?: unknown
  /**
   * The artifacts `artifactFolder` shows, as `[name, content hash]` pairs: part of the fingerprint
   * of every builder whose arguments use the artifact-folder keyword (a new, changed or removed
   * file then makes it run again). Without it such a builder never counts as unchanged.
   */
  readonly artifacts?: () => Promise<readonly (readonly [string, string])[]>
  readonly processId?: string
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: BuilderProgress) => void
  /**
   * When set, a run of row-wise calls that return plain values reports progress about this often
   * (and once when the builder's rows are done) instead of after every call: a caller that only
   * samples progress (the tables domain stores it every 100 ms) need not pay a call per row.
   * Calls that return a promise still report one step each.
   */
  readonly progressIntervalMs?: number
  /** Awaited before the next builder starts: persist the result here to resume at the next builder. */
  readonly onBuilderDone?: (result: BuilderResult) => void | Promise<void>
}

/** The computed instance. */
export interface ComputeResult {
  /** Every column: the index's, then each column builder's in execution order. */
  readonly table: Table
  /** Builder name → fingerprint (store them with the instance: a later execute reuses by them). */
  readonly fingerprints: Readonly<Record<string, string>>
  /** One per builder, in execution order (completed ones included). */
  readonly builders: readonly BuilderResult[]
  /** Every instance read by any builder, deduplicated (the new instance's dependencies). */
  readonly dependencies: readonly InstanceRef[]
}

/**
 * The second argument of every builder function. A code module cannot `import` packages (see
 * docs/tables.md, "Code modules and builders"), so what it needs comes from here and from its arguments.
 */
export interface BuilderContext {
  /** The table being executed. */
  readonly table: string
  /** The instance being built (`TEMP_<version>`). */
  readonly instanceId: string
  /** The name of the builder this call runs. */
  readonly builder: string
  /** The current row (row-wise builders only). */
  readonly index?: number
  /** The index's row count (undefined while the index builder runs). */
  readonly rows?: number
  /** The execution's process id (`vault.processes.get` shows its progress). */
  readonly processId?: string
  /** Where the builder puts the instance's artifacts: what `~artifactFolder~` in a spec's arguments is. */
  readonly artifactFolder?: unknown
  /** Aborts when the execution is aborted: long calls should pass it on (e.g. to `fetch`). */
  readonly signal: AbortSignal
  /** The apache-arrow module, to build or read Arrow tables without importing it. */
  readonly arrow: typeof arrow
}

/** What a loaded code module exports. */
export type CodeModuleNamespace = Readonly<Record<string, unknown>>
