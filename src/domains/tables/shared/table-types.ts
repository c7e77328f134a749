/** What the tables domain's client and engine halves exchange. */

/** Options of `vault.tables.create`. */
export interface CreateTableOptions {
  /** false (default): one table-level artifact set, and only the latest instance is active. */
  allowMultipleArtifacts?: boolean
  /** true: once an instance starts executing, the table's other instances become inactive. */
  hasSideEffects?: boolean
  description?: string
}

/** A table as `vault.tables.list()` reports it. */
export interface TableInfo {
  name: string
  allowMultipleArtifacts: boolean
  hasSideEffects: boolean
  description: string
  createdAt: string
}

/** An instance of a table: a version of its data. */
export interface InstanceInfo {
  table: string
  /** `TEMP_<version>` while temporary, `<version>_<seconds>_<uuid>` once materialised. */
  instanceId: string
  version: string
  temporary: boolean
  /** Readable by `get` with `activeOnly` (hasSideEffects and allowMultipleArtifacts: false deactivate older ones). */
  active: boolean
  /** false for an instance materialised from a stopped process's partial result. */
  successful: boolean
  externalEdit: boolean
  origin: InstanceRef | null
  dependencies: InstanceRef[]
  description: string
  rows: number
  columns: { name: string; dtype: string }[]
  createdAt: string
  materializedAt: string | null
}

/** One instance of one table. */
export interface InstanceRef {
  table: string
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
  version?: string
  /** The instance whose builders (and, for an external edit, data) the new one starts from. */
  origin?: InstanceRef
  /** Start from the table's latest materialised instance (none: start empty). */
  copy?: boolean
  /** An instance written by `write()`, not built by `execute()`. */
  externalEdit?: boolean
  /** Builders to declare (each must then be given a spec with `builders.create`). */
  builders?: string[]
  description?: string
}

/** Options of `write`. */
export interface WriteOptions extends ProcessOptions {
  version?: string
  /** Instances this data was made from (recorded). */
  dependencies?: InstanceRef[]
  /** Column dtypes by name (inferred from the data where not given). */
  dtypes?: Record<string, string>
}

/** Options of `get`. */
export interface GetOptions {
  instanceId?: string
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
  includeTemp?: boolean
}

/** One column of an instance as it crosses the boundary: Arrow IPC of a one-column table. */
export interface ColumnPart {
  name: string
  dtype: string
  ipc: Uint8Array
}

/** A stored column as `get` describes it: its bytes are fetched only when the caller lacks them. */
export interface StoredColumnRef {
  name: string
  dtype: string
  /** The SHA-256 of its IPC bytes (content-addressed: equal hashes, equal columns). */
  hash: string
}

/** An instance's data as it crosses the boundary: its columns by reference. */
export interface InstanceData {
  instanceId: string
  rows: number
  columns: StoredColumnRef[]
}

/** An artifact: a file tied to an instance (or to its table). */
export interface ArtifactInfo {
  name: string
  size: number
  /** The instance it belongs to, or null for a table-level artifact. */
  instanceId: string | null
}

/** Options of `vault.tree`. */
export interface TreeOptions {
  code?: boolean
  builders?: boolean
  artifacts?: boolean
}

/** The vault's structure, as `vault.tree()` returns it (with `text`, a rendering). */
export interface VaultTree {
  code: string[]
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
  builder: string
  done: number
  total: number
  /** How many of `done` were copied from the origin instead of computed. */
  reused: number
}

/** Options of `execute`. */
export interface ExecuteOptions extends ProcessOptions {
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
  processId: string
  /** The materialised instance (absent when `background: true`). */
  instanceId?: string
}

/** What the other write operations resolve to. */
export interface OpResult {
  processId: string
  instanceId?: string
}
