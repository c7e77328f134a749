/** What the tables domain's client and engine halves exchange. */

/** Options of `vault.tables.create`. */
export interface CreateTableOptions {
  /** false (default): one table-level artifact set, and only the latest instance is active. */
  allowMultipleArtifacts?: boolean
  /** true: once an instance starts executing, the table's other instances become inactive. */
  hasSideEffects?: boolean
  /** Free text about the table (default empty); `vault.tables.describe` changes it. */
  description?: string
}

/** A table as `vault.tables.list()` reports it. */
export interface TableInfo {
  /** The table's name (unique in the vault). */
  name: string
  /** As created: true keeps an artifact set per instance, false one set for the table. */
  allowMultipleArtifacts: boolean
  /** As created: true deactivates the table's other instances once one starts executing. */
  hasSideEffects: boolean
  /** Its description (empty when none was given). */
  description: string
  /** When it was created: an ISO 8601 UTC timestamp. */
  createdAt: string
}

/** An instance of a table: a version of its data. */
export interface InstanceInfo {
  /** The table it belongs to. */
  table: string
  /** `TEMP_<version>` while temporary, `<version>_<seconds>_<uuid>` once materialised. */
  instanceId: string
  /** Its version name (`base` unless another was given). */
  version: string
  /** True while it is the version's temporary instance (being edited, not yet executed or written). */
  temporary: boolean
  /** Readable by `get` with `activeOnly` (hasSideEffects and allowMultipleArtifacts: false deactivate older ones). */
  active: boolean
  /** false for an instance materialised from a stopped process's partial result. */
  successful: boolean
  /** True for data written by `vault.tables.write` rather than built by `execute`. */
  externalEdit: boolean
  /** The instance it started from (builders copied, rows reused when unchanged), or null. */
  origin: InstanceRef | null
  /** The instances its data was made from (read by its builders, or named to `write`). */
  dependencies: InstanceRef[]
  /** Its description (empty when none was given). */
  description: string
  /** Its number of rows. */
  rows: number
  /** Its columns in order, each with its dtype name (docs/tables.md, "Dtypes"). */
  columns: { name: string; dtype: string }[]
  /** When it was created: an ISO 8601 UTC timestamp. */
  createdAt: string
  /** When its data was materialised (ISO 8601 UTC), or null while temporary. */
  materializedAt: string | null
}

/** One instance of one table. */
export interface InstanceRef {
  /** The table's name. */
  table: string
  /** The instance's id within that table. */
  instanceId: string
}

/** Options shared by every write operation: it runs as a process (docs/tables.md, "Processes"). */
export interface ProcessOptions {
  /**
   * A process id from `vault.processes.newId()`. Without one, any error rolls the operation back
   * completely; with one, an error that is not the library's pauses it (locks kept) and calling
   * the same operation again with the same id resumes it.
   */
  processId?: string
}

/** Options of `createInstance`. */
export interface CreateInstanceOptions extends ProcessOptions {
  /** The version it is a temporary instance of (default `base`). */
  version?: string
  /** The instance whose builders (and, for an external edit, data) the new one starts from. */
  origin?: InstanceRef
  /** Start from the table's latest materialised instance (none: start empty). */
  copy?: boolean
  /** An instance written by `write()`, not built by `execute()`. */
  externalEdit?: boolean
  /** Builders to declare (each must then be given a spec with `builders.create`). */
  builders?: string[]
  /** Free text about the instance (default empty). */
  description?: string
}

/** Options of `write`. */
export interface WriteOptions extends ProcessOptions {
  /** The version the written instance belongs to (default `base`). */
  version?: string
  /** Instances this data was made from (recorded). */
  dependencies?: InstanceRef[]
  /** Column dtypes by name (inferred from the data where not given). */
  dtypes?: Record<string, string>
}

/** Options of `get`. */
export interface GetOptions {
  /** Read this instance (default: the latest materialised one that the other options allow). */
  instanceId?: string
  /** Only instances of this version (default: any version). */
  version?: string
  /** Only active instances (default true). */
  activeOnly?: boolean
  /** Only instances that completed successfully (default false). */
  successfulOnly?: boolean
  /** The first `rows` rows only. */
  rows?: number
}

/** Options of `instances`. */
export interface InstancesOptions {
  /** Only this version's instances (all versions when absent). */
  version?: string
  /** Include temporary instances (default false). */
  includeTemp?: boolean
}

/** One column of an instance as it crosses the boundary: Arrow IPC of a one-column table. */
export interface ColumnPart {
  /** The column's name. */
  name: string
  /** Its dtype name. */
  dtype: string
  /** The Arrow IPC stream bytes of a table holding only this column. */
  ipc: Uint8Array
}

/** A stored column as `get` describes it: its bytes are fetched only when the caller lacks them. */
export interface StoredColumnRef {
  /** The column's name. */
  name: string
  /** Its dtype name. */
  dtype: string
  /** The SHA-256 of its IPC bytes (content-addressed: equal hashes, equal columns). */
  hash: string
}

/** An instance's data as it crosses the boundary: its columns by reference. */
export interface InstanceData {
  /** The instance read (the one chosen when `get` was not given an id). */
  instanceId: string
  /** Its number of rows (at most `rows` of GetOptions when that was given). */
  rows: number
  /** Its columns in order, by reference to their stored bytes. */
  columns: StoredColumnRef[]
}

/** An artifact: a file tied to an instance (or to its table). */
export interface ArtifactInfo {
  /** The artifact's file name. */
  name: string
  /** Its size in bytes. */
  size: number
  /** The instance it belongs to, or null for a table-level artifact. */
  instanceId: string | null
}

/** Options of `vault.tree`. */
export interface TreeOptions {
  /** List the code modules (default true). */
  code?: boolean
  /** List each instance's builders (default true). */
  builders?: boolean
  /** List artifacts (default false). */
  artifacts?: boolean
}

/** The vault's structure, as `vault.tree()` returns it (with `text`, a rendering). */
export interface VaultTree {
  /** The names of the code modules (empty when `code: false`). */
  code: string[]
  /** Every table, by name, with its instances. */
  tables: {
    name: string
    description: string
    artifacts?: string[]
    instances: {
      instanceId: string
      temporary: boolean
      active: boolean
      rows: number
      description: string
      builders?: string[]
      artifacts?: string[]
    }[]
  }[]
}

/** Progress of one builder during `execute`: rows done (reused ones included) out of the index's rows. */
export interface BuilderProgress {
  /** The builder's name. */
  builder: string
  /** Rows done so far (reused ones included). */
  done: number
  /** Rows to do: the index's row count. */
  total: number
  /** How many of `done` were copied from the origin instead of computed. */
  reused: number
}

/** Options of `execute`. */
export interface ExecuteOptions extends ProcessOptions {
  /** Execute the temporary instance of this version (default `base`). */
  version?: string
  /** Recompute every row, even those whose builder, code and dependencies are unchanged. */
  force?: boolean
  /** Resolve at once with the process id; the execution goes on (see `vault.processes`). */
  background?: boolean
  /** Told each builder's progress (polled, about every 50 ms, and once at the end). */
  onProgress?: (progress: BuilderProgress) => void
  /** Abort the execution: it is rolled back and the call rejects with the signal's reason. */
  signal?: AbortSignal
}

/** What `vault.tables.execute` resolves to. */
export interface ExecuteResult {
  /** The execution's process (`vault.processes.get(processId)`). */
  processId: string
  /** The materialised instance (absent when `background: true`). */
  instanceId?: string
}

/** What the other write operations resolve to. */
export interface OpResult {
  /** The operation's process (each write operation of the tables domain runs as one). */
  processId: string
  /** The instance it made or changed, for the operations that make or change one. */
  instanceId?: string
}
