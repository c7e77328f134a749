import type { Table, Vector } from 'apache-arrow'
import { InvalidArgumentError, UnsupportedError, VaultError } from '../../../errors/errors.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import type { Processes } from '../../processes/client/processes.js'
import type {
  ArtifactInfo, BuilderProgress, CreateInstanceOptions, CreateTableOptions, ExecuteOptions, ExecuteResult, GetOptions, InstanceData, InstanceInfo, InstancesOptions, OpResult, ProcessOptions, TableInfo, WriteOptions,
} from '../shared/table-types.js'
import { known } from './call-options.js'
import { instanceTable, toColumnParts, type TableData } from './table-arrow.js'
import { VectorCache } from './vector-cache.js'

export type {
  ArtifactInfo, BuilderProgress, CreateInstanceOptions, CreateTableOptions, ExecuteOptions, GetOptions, InstanceInfo, InstanceRef, InstancesOptions, OpResult, ProcessOptions, TableInfo, WriteOptions, ExecuteResult, TreeOptions, VaultTree,
} from '../shared/table-types.js'
export type { TableData } from './table-arrow.js'
// vault.tree() reaches it through this module: one import() of the tables client on the page, not two.
export { vaultTree } from './tree.js'

/** How the tables client reaches its engine half and the vault's process holder. */
export interface TablesContext {
  caller: DomainCaller
  /** The vault's processes (absent inside `vault.transaction`: operations there commit with it). */
  processes: Processes | undefined
  /** Who runs the operations (the processes client's holder, or the transaction's own id). */
  holder: string
  /** How long an operation waits for another process's lock on its table before LockTimeoutError. */
  lockTimeoutMs(): number
}

/** Runs one write operation of the tables domain as a process (docs/tables.md, "Processes"). */
export async function runOp(tc: TablesContext, method: string, args: unknown[], options: ProcessOptions | undefined, transfer?: Transferable[], auto = false, keepTracking = false): Promise<OpResult> {
  const processId = options?.processId
  if (processId !== undefined && (typeof processId !== 'string' || processId === '')) throw new InvalidArgumentError('processId must be a non-empty string (from vault.processes.newId())')
  // While the operation runs (and while it is paused), this client renews its holder's lease.
  const processes = tc.processes
  if (processId !== undefined && !processes) throw new InvalidArgumentError('inside vault.transaction a table operation commits with the transaction: it takes no processId')
  if (processId !== undefined) await processes!._track(processId)
  const call = { holder: tc.holder, processId: processId ?? null, lockTimeoutMs: tc.lockTimeoutMs(), auto }
  try {
    const result = (await tc.caller.call('tables', method, [call, ...args], transfer)) as OpResult
    if (processId !== undefined && !keepTracking) processes!._finished(processId)
    return result
  } catch (err) {
    // A library error rolled the operation back; any other error paused it: it stays this client's.
    if (processId !== undefined && (auto || err instanceof VaultError || typeof (err as { code?: unknown })?.code === 'string')) processes!._finished(processId)
    throw err
  }
}

/** `vault.tables.builders`: the builder specs of a table's temporary instance of a version. */
export class Builders {
  /** @internal */
  constructor(private readonly tc: TablesContext) {}

  /**
   * Create or replace builder `name` of the temporary instance of `options.version` (default
   * `base`) from a spec object or its JSON or YAML text. The index builder is `<table>_index`.
   */
  async create(table: string, name: string, spec: unknown, options: { version?: string } & ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['version', 'processId'], 'vault.tables.builders.create')
    return runOp(this.tc, 'buildersCreate', [table, name, spec, { version: options.version }], options)
  }

  /** Builder names of the temporary instance of a version (else its latest instance), or of `instanceId`. */
  async list(table: string, options: { version?: string; instanceId?: string } = {}): Promise<string[]> {
    options = known(options, ['version', 'instanceId'], 'vault.tables.builders.list')
    return (await this.tc.caller.call('tables', 'buildersList', [table, options])) as string[]
  }

  /** A builder's stored text ('' for one declared by createInstance and not given a spec yet). */
  async get(table: string, name: string, options: { version?: string; instanceId?: string } = {}): Promise<string> {
    options = known(options, ['version', 'instanceId'], 'vault.tables.builders.get')
    return (await this.tc.caller.call('tables', 'buildersGet', [table, name, options])) as string
  }

  /** Delete a builder of the temporary instance of a version. NotFoundError when it has none of that name. */
  async delete(table: string, name: string, options: { version?: string } & ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['version', 'processId'], 'vault.tables.builders.delete')
    return runOp(this.tc, 'buildersDelete', [table, name, { version: options.version }], options)
  }
}

/** The artifacts of one instance (or of the table): files stored in the vault's blob store. */
export class TableArtifacts {
  /** @internal */
  constructor(
    private readonly tc: TablesContext,
    private readonly table: string,
    private readonly instanceId: string | undefined,
    /** What was wrong with `artifacts()`'s options: every call rejects with it (see {@link Tables.artifacts}). */
    private readonly refused?: InvalidArgumentError,
  ) {}

  /** The files (name and size). */
  async list(): Promise<ArtifactInfo[]> {
    if (this.refused) throw this.refused
    return (await this.tc.caller.call('tables', 'artifactsList', [this.table, this.instanceId ?? null])) as ArtifactInfo[]
  }

  /** A file's bytes. NotFoundError when there is none of that name. */
  async get(name: string): Promise<Uint8Array> {
    if (this.refused) throw this.refused
    return (await this.tc.caller.call('tables', 'artifactsGet', [this.table, this.instanceId ?? null, name])) as Uint8Array
  }

  /** Add or replace a file of a temporary instance (ConflictError for a materialised one). */
  async put(name: string, bytes: Uint8Array, options: ProcessOptions = {}): Promise<OpResult> {
    if (this.refused) throw this.refused
    options = known(options, ['processId'], 'vault.artifacts.put')
    if (this.instanceId === undefined) return Promise.reject(new InvalidArgumentError('artifacts are put into a temporary instance: vault.tables.artifacts(table, { instanceId: "TEMP_<version>" })'))
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new InvalidArgumentError(`artifact "${name}": its content must be a Uint8Array`))
    return runOp(this.tc, 'artifactsPut', [this.table, this.instanceId, name, bytes.slice()], options)
  }
}

/**
 * `vault.tables`: versioned tables whose instances are written by you or built by stored code
 * (TableVault's model; docs/tables.md).
 */
export class Tables {
  /** Builder specs of a table's temporary instances. */
  readonly builders: Builders
  private readonly vectors = new VectorCache()

  /** @internal */
  constructor(private readonly tc: TablesContext) {
    this.builders = new Builders(tc)
  }

  private read(method: string, args: unknown[]): Promise<unknown> {
    return this.tc.caller.call('tables', method, args)
  }

  /** Create a table. AlreadyExistsError when the name is taken; InvalidArgumentError for a reserved or malformed name. */
  async create(name: string, options: CreateTableOptions & ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['allowMultipleArtifacts', 'hasSideEffects', 'description', 'processId'], 'vault.tables.create')
    const { processId, ...rest } = options
    return runOp(this.tc, 'create', [name, rest], { processId })
  }

  /** Rename a table (its instances, builders and artifacts go with it). */
  async rename(from: string, to: string, options: ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['processId'], 'vault.tables.rename')
    return runOp(this.tc, 'rename', [from, to], options)
  }

  /** Delete a table with its instances, builders and artifacts; its name may be used again. */
  async delete(name: string, options: ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['processId'], 'vault.tables.delete')
    return runOp(this.tc, 'drop', [name], options)
  }

  /** Every table, by name. */
  async list(): Promise<TableInfo[]> {
    return (await this.read('list', [])) as TableInfo[]
  }

  /** One table. NotFoundError when there is none of that name. */
  async info(name: string): Promise<TableInfo> {
    return (await this.read('info', [name])) as TableInfo
  }

  /**
   * Create the temporary instance `TEMP_<version>` (one per version): to be built by `execute`
   * (its index builder `<table>_index` is declared) or, with `externalEdit`, written by `write`.
   * Resolves with its id.
   */
  async createInstance(table: string, options: CreateInstanceOptions = {}): Promise<OpResult> {
    options = known(options, ['version', 'origin', 'copy', 'externalEdit', 'builders', 'description', 'processId'], 'vault.tables.createInstance')
    const { processId, ...rest } = options
    return runOp(this.tc, 'createInstance', [table, rest], { processId })
  }

  /** Delete an instance (temporary or materialised) with its builders and artifacts. */
  async deleteInstance(table: string, instanceId: string, options: ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['processId'], 'vault.tables.deleteInstance')
    return runOp(this.tc, 'deleteInstance', [table, instanceId], options)
  }

  /** A table's instances, materialised ones oldest first (then the temporary ones, with `includeTemp`). */
  async instances(table: string, options: InstancesOptions = {}): Promise<InstanceInfo[]> {
    options = known(options, ['version', 'includeTemp'], 'vault.tables.instances')
    return (await this.read('instances', [table, options])) as InstanceInfo[]
  }

  /**
   * Write a new materialised instance of `options.version` (default `base`) from an Arrow table,
   * an array of row objects or an object of columns. Uses the version's temporary instance when
   * it was created with `externalEdit` (its artifacts come along), else makes one. Column dtypes
   * come from `options.dtypes` or the data. An empty table is refused. Resolves with the instance id.
   */
  async write(table: string, data: TableData, options: WriteOptions = {}): Promise<OpResult> {
    options = known(options, ['version', 'dependencies', 'dtypes', 'processId'], 'vault.tables.write')
    let parts
    try {
      parts = toColumnParts(data, options.dtypes)
    } catch (err) {
      return Promise.reject(err)
    }
    if (parts.length === 0) return Promise.reject(new InvalidArgumentError('Empty table: write() needs at least one column and one row'))
    return runOp(this.tc, 'write', [table, parts, { version: options.version, dependencies: options.dependencies }], options, parts.map((p) => p.ipc.buffer as ArrayBuffer))
  }

  /**
   * Read an instance as an Arrow table: `instanceId`, else the latest materialised instance of
   * `version` (default `base`) that is active (unless `activeOnly: false`) and successful (with
   * `successfulOnly`). `rows`: the first rows only.
   */
  async get(table: string, options: GetOptions = {}): Promise<{ table: Table; instanceId: string }> {
    options = known(options, ['instanceId', 'version', 'activeOnly', 'successfulOnly', 'rows'], 'vault.tables.get')
    if (options.rows !== undefined && (!Number.isSafeInteger(options.rows) || options.rows < 0)) throw new InvalidArgumentError('rows must be a whole number ≥ 0')
    const { rows, ...rest } = options
    const data = (await this.read('get', [table, rest])) as InstanceData
    const vectors = data.columns.map((c) => this.vectors.get(c.hash))
    const missing = data.columns.filter((_, i) => vectors[i] === undefined).map((c) => c.hash)
    if (missing.length > 0) {
      const bytes = (await this.read('columnBytes', [missing])) as Uint8Array[]
      const fetched = new Map(missing.map((h, i) => [h, this.vectors.add(h, bytes[i]!)]))
      data.columns.forEach((c, i) => (vectors[i] ??= fetched.get(c.hash)))
    }
    return { table: instanceTable(data, vectors as Vector[], rows), instanceId: data.instanceId }
  }

  /**
   * Execute the temporary instance of `options.version` (default `base`): its builders run and the
   * result becomes a materialised instance (rows reused from the origin where a builder, its code
   * and its dependencies are unchanged; `force` recomputes all). The table is locked meanwhile.
   * `background: true` resolves at once with the process id (follow it with `vault.processes`).
   * `onProgress` is told each builder's rows done / total; `signal` aborts (rolled back).
   */
  async execute(table: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    options = known(options, ['version', 'force', 'background', 'onProgress', 'signal', 'processId'], 'vault.tables.execute')
    const { onProgress, signal, background } = options
    const processes = this.tc.processes
    if (!processes) throw new UnsupportedError('execute cannot run inside vault.transaction: it commits as it goes (each finished builder), so it runs on the vault itself')
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidArgumentError('onProgress must be a function')
    // Checked here: only `background: true` reaches the engine (which checks it), so `1` or "yes"
    // ran in the foreground without a word.
    if (background !== undefined && typeof background !== 'boolean') throw new InvalidArgumentError('background must be a boolean')
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError('vault.tables.execute: signal must be an AbortSignal')
    signal?.throwIfAborted()
    const given = options.processId
    // Progress and abort follow the process by its id: make one when none was given (errors still roll back).
    const auto = given === undefined && (background === true || onProgress !== undefined || signal !== undefined)
    const processId = given ?? (auto ? await processes.newId() : undefined)
    if (background === true) {
      // Resolves once the process is registered; its outcome is the process's (vault.processes.get /
      // completed). This client keeps renewing the holder's lease meanwhile.
      const started = (await runOp(this.tc, 'execute', [table, { version: options.version, force: options.force, background: true }], { processId }, undefined, auto, true)) as ExecuteResult
      // An ordinary call that lasts as long as the run: vault.close() waits for it (the run stops
      // at once when the vault closes, its process failed). Its outcome is the process's.
      this.tc.caller.call('tables', 'awaitBackground', [started.processId]).catch(() => {})
      return started
    }
    const args = [table, { version: options.version, force: options.force }]
    const running = processId === undefined ? runOp(this.tc, 'execute', args, {}) : runOp(this.tc, 'execute', args, { processId }, undefined, auto)
    if (processId === undefined || (!onProgress && !signal)) return (await running) as ExecuteResult
    return this.follow(processes, running, processId, onProgress, signal)
  }

  private async follow(processes: Processes, running: Promise<OpResult>, processId: string, onProgress: ExecuteOptions['onProgress'], signal: AbortSignal | undefined): Promise<ExecuteResult> {
    let settled = false
    const seen = new Map<string, string>()
    const report = async () => {
      const info = await processes.get(processId).catch(() => undefined)
      for (const p of (Array.isArray(info?.progress) ? info.progress : []) as BuilderProgress[]) {
        const key = `${p.done}/${p.total}/${p.reused}`
        if (seen.get(p.builder) === key) continue
        seen.set(p.builder, key)
        // The callback's error is its own, as a watcher's is: thrown out of the poll it rejected
        // a promise nobody waited for yet, which ends a Node process (found by a probe).
        try {
          const done = onProgress?.(p) as unknown
          if (done instanceof Promise) done.catch(() => {})
        } catch {
          // (As above.)
        }
      }
    }
    const onAbort = () => void processes.stop(processId, { force: true }).catch(() => {})
    signal?.addEventListener('abort', onAbort)
    const poll = (async () => {
      while (!settled) {
        await new Promise((r) => setTimeout(r, 50))
        if (!settled && onProgress) await report()
      }
    })()
    try {
      const result = await running
      if (onProgress) await report()
      return result as ExecuteResult
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      throw err
    } finally {
      settled = true
      signal?.removeEventListener('abort', onAbort)
      await poll
    }
  }

  /** Describe a table, or one of its instances. */
  async describe(table: string, text: string, options: { instanceId?: string } & ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['instanceId', 'processId'], 'vault.tables.describe')
    return runOp(this.tc, 'describe', [table, text, options.instanceId ?? null], options)
  }

  /** The description of a table (and of an instance, when named). */
  async descriptions(table: string, options: { instanceId?: string } = {}): Promise<{ table: string; instance?: string }> {
    options = known(options, ['instanceId'], 'vault.tables.descriptions')
    return (await this.read('descriptions', [table, options.instanceId ?? null])) as { table: string; instance?: string }
  }

  /**
   * The artifacts of an instance: `list`, `get`, `put` (into a temporary instance). Without an
   * instance: the table's artifact set (allowMultipleArtifacts: false) or its latest instance's.
   */
  artifacts(table: string, options: { instanceId?: string } = {}): TableArtifacts {
    // Bad options reject the object's calls rather than throw here: before the tables client loads,
    // vault.tables.artifacts() hands out a stand-in at once, and both must behave alike.
    try {
      options = known(options, ['instanceId'], 'vault.tables.artifacts')
    } catch (err) {
      return new TableArtifacts(this.tc, table, undefined, err as InvalidArgumentError)
    }
    return new TableArtifacts(this.tc, table, options.instanceId)
  }

  /** Tables locked now by an executing (or paused) operation, and by which process. */
  async locks(): Promise<{ table: string; processId: string }[]> {
    return (await this.read('locks', [])) as { table: string; processId: string }[]
  }

  /** @internal Resume what operations left in flight (`openVault(..., { restart: true })`). */
  async _restart(): Promise<{ resumed: string[]; rolledBack: string[]; failed: string[] }> {
    const processes = this.tc.processes!
    await processes._track(processes.holder)
    try {
      return (await this.tc.caller.call('tables', 'restart', [processes.holder])) as { resumed: string[]; rolledBack: string[]; failed: string[] }
    } finally {
      processes._finished(processes.holder)
    }
  }
}

/** `vault.code`: code modules (ES module source text) that builders call. Stored as data: nothing runs until `execute`. */
export class CodeModules {
  /** @internal */
  constructor(private readonly tc: TablesContext) {}

  /** Store a module's source. AlreadyExistsError when the name is taken, unless `replace: true`. */
  async create(name: string, source: string, options: { replace?: boolean } & ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['replace', 'processId'], 'vault.code.create')
    return runOp(this.tc, 'codeCreate', [name, source, { replace: options.replace }], options)
  }

  /** Module names. */
  async list(): Promise<string[]> {
    return (await this.tc.caller.call('tables', 'codeList', [])) as string[]
  }

  /** A module's source. NotFoundError when there is none of that name. */
  async get(name: string): Promise<string> {
    return (await this.tc.caller.call('tables', 'codeGet', [name])) as string
  }

  /** Delete a module. NotFoundError when there is none of that name. */
  async delete(name: string, options: ProcessOptions = {}): Promise<OpResult> {
    options = known(options, ['processId'], 'vault.code.delete')
    return runOp(this.tc, 'codeDelete', [name], options)
  }
}
