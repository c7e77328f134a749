import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { CallTurns } from '../../../engine/call-turns.js'
import type { CallContext } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import { builderText } from '../shared/builder-text.js'
import { checkInstanceId, checkObjectName, checkTableName, tempInstanceId } from '../shared/table-names.js'
import type {
  ArtifactInfo, CreateInstanceOptions, CreateTableOptions, GetOptions, InstanceData, InstanceInfo, InstancesOptions, OpResult, TableInfo, TreeOptions, VaultTree,
} from '../shared/table-types.js'
import { ByteBudgetCache } from '../shared/byte-budget-cache.js'
import { checkCall, checkParts, checkRef, checkText, optionalBoolean, versionOf } from './table-args.js'
import * as ops from './table-op-defs.js'
import { OpRunner, type OpDef } from './table-ops.js'
import { TablesExecutor } from './table-execute.js'
import { executeReused } from './table-execute-reused.js'
import { allTables, columnsOf, findInstance, instancesOf, mustFindInstance, mustFindTable, pickInstance, tableInfo, type StoredColumn, type TableRow } from './table-rows.js'

export { tablesSchema } from './tables-schema.js'

/** How many column hashes named by `get` stay readable by `columnBytes` without an instance (see TablesEngine.named). */
const NAMED_MAX = 4096

/** The engine side of `vault.tables`, `vault.code` and `vault.tree()`. */
export class TablesEngine {
  /**
   * Calls run in arrival order, also past a write's trip to the blob store (its columns, an
   * artifact's bytes): src/engine/call-turns.ts. An operation waiting for a table's lock lets later
   * calls pass (as before): only its first attempt is in call order.
   */
  private readonly turns = new CallTurns()
  private services: EngineServices | undefined
  private readonly runner = new OpRunner(() => this.services)
  /** Background executions running in this engine, by process id (see {@link awaitBackground}). */
  private readonly background = new Map<string, Promise<void>>()
  /**
   * Recently read column blobs by hash: reading an instance again costs no file read and no SHA-256
   * check. The bytes are shared with later reads: the client builds immutable Arrow vectors over them.
   */
  private readonly cache = new ByteBudgetCache<Uint8Array>(256 * 1024 * 1024)
  /**
   * Column hashes `get` named lately (most recent last, at most NAMED_MAX): `columnBytes` serves
   * them although no instance refers to them any more. The client reads an instance in two calls
   * (`get`, then `columnBytes` for what it has not cached); a `deleteInstance` made after the
   * `get` runs between them, and refusing its columns then made a `get` issued before the delete
   * fail with NotFoundError (docs/tables.md, "Call order"). The blobs stay in the store until a
   * collection, which only a checkpoint or an open runs.
   */
  private readonly named = new Map<string, true>()
  private readonly executor = new TablesExecutor(this.runner, () => this.services, (ctx, hash) => this.readColumn(ctx, hash), (hash, bytes) => this.cache.set(hash, bytes, bytes.byteLength))

  constructor() {
    this.runner.resumers.set('execute', (ctx, holder, processId) => this.executor.resume(ctx, holder, processId))
  }

  attach(services: EngineServices): void {
    this.services = services
  }

  private async op(ctx: CallContext, call: unknown, def: OpDef, args: unknown): Promise<OpResult> {
    const { processId, result } = await this.runner.run(ctx, checkCall(call), def, args)
    return { processId, ...(result as object) }
  }

  // ---- tables ----------------------------------------------------------------------------------

  async create(ctx: CallContext, call: unknown, name: unknown, options: CreateTableOptions = {}): Promise<OpResult> {
    checkTableName(name)
    const args = {
      name,
      multipleArtifacts: optionalBoolean(options.allowMultipleArtifacts, 'allowMultipleArtifacts'),
      sideEffects: optionalBoolean(options.hasSideEffects, 'hasSideEffects'),
      description: checkText(options.description, 'a description'),
    }
    return this.op(ctx, call, ops.createTable, args)
  }

  async rename(ctx: CallContext, call: unknown, from: unknown, to: unknown): Promise<OpResult> {
    checkTableName(from)
    checkTableName(to, 'the new table name')
    return this.op(ctx, call, ops.renameTable, { from, to })
  }

  async drop(ctx: CallContext, call: unknown, name: unknown): Promise<OpResult> {
    checkTableName(name)
    return this.op(ctx, call, ops.dropTable, { name })
  }

  async list(ctx: CallContext): Promise<TableInfo[]> {
    return allTables(ctx.db).map(tableInfo)
  }

  async info(ctx: CallContext, name: unknown): Promise<TableInfo> {
    checkTableName(name)
    return tableInfo(mustFindTable(ctx.db, name))
  }

  async describe(ctx: CallContext, call: unknown, table: unknown, text: unknown, instanceId: unknown): Promise<OpResult> {
    checkTableName(table)
    if (typeof text !== 'string') throw new InvalidArgumentError('a description must be a string')
    checkText(text, 'a description')
    if (instanceId !== null && instanceId !== undefined) checkInstanceId(instanceId)
    return this.op(ctx, call, ops.describe, { table, text, instanceId: instanceId ?? null })
  }

  async descriptions(ctx: CallContext, table: unknown, instanceId: unknown): Promise<{ table: string; instance?: string }> {
    checkTableName(table)
    const t = mustFindTable(ctx.db, table)
    if (instanceId === undefined || instanceId === null) return { table: t.description }
    checkInstanceId(instanceId)
    return { table: t.description, instance: mustFindInstance(ctx.db, t, instanceId).description }
  }

  // ---- instances -------------------------------------------------------------------------------

  async createInstance(ctx: CallContext, call: unknown, table: unknown, options: CreateInstanceOptions = {}): Promise<OpResult> {
    checkTableName(table)
    const builders = options.builders ?? []
    if (!Array.isArray(builders)) throw new InvalidArgumentError('builders must be an array of builder names')
    const args = {
      table,
      version: versionOf(options.version),
      origin: options.origin === undefined || options.origin === null ? null : checkRef(options.origin, 'origin'),
      copy: optionalBoolean(options.copy, 'copy'),
      externalEdit: optionalBoolean(options.externalEdit, 'externalEdit'),
      builders: [...builders] as string[],
      description: checkText(options.description, 'a description'),
    }
    return this.op(ctx, call, ops.createInstance, args)
  }

  async deleteInstance(ctx: CallContext, call: unknown, table: unknown, instanceId: unknown): Promise<OpResult> {
    checkTableName(table)
    checkInstanceId(instanceId)
    return this.op(ctx, call, ops.deleteInstance, { table, instanceId })
  }

  async instances(ctx: CallContext, table: unknown, options: InstancesOptions = {}): Promise<InstanceInfo[]> {
    checkTableName(table)
    const version = options.version === undefined ? undefined : versionOf(options.version)
    return instancesOf(ctx.db, mustFindTable(ctx.db, table), version, optionalBoolean(options.includeTemp, 'includeTemp'))
  }

  // ---- data --------------------------------------------------------------------------------------

  /**
   * Store an instance's data: every column (Arrow IPC of a one-column table) goes to the blob
   * store first, then the write operation materialises the temporary instance with them.
   */
  write(ctx: CallContext, call: unknown, table: unknown, parts: unknown, options: { version?: unknown; dependencies?: unknown } = {}): Promise<OpResult> {
    let checked: ReturnType<typeof checkParts>
    let version: string
    let deps: ReturnType<typeof checkRef>[]
    try {
      checkTableName(table)
      version = versionOf(options?.version)
      const dependencies = options?.dependencies === undefined ? [] : options.dependencies
      if (!Array.isArray(dependencies)) throw new InvalidArgumentError('dependencies must be an array of { table, instanceId }')
      deps = dependencies.map((d, i) => checkRef(d, `dependencies[${i}]`))
      checked = checkParts(parts)
    } catch (err) {
      return this.turns.run(() => Promise.reject(err))
    }
    const pinned: string[] = []
    // The columns go to the blob store first (pinned until the write settles); the calls made
    // after this one wait until its operation has run its first write.
    const stored = (async () => {
      const columns: StoredColumn[] = []
      for (const p of checked.parts) {
        const hash = await ctx.blobs.put(p.ipc)
        pinned.push(hash)
        this.cache.set(hash, p.ipc, p.ipc.byteLength)
        columns.push({ name: p.name, dtype: p.dtype, hash })
      }
      return columns
    })().catch((err: unknown) => {
      for (const h of pinned.splice(0)) ctx.blobs.unpin(h)
      throw err
    })
    return this.turns.after(
      stored,
      async (columns) => {
        try {
          const args: ops.WriteArgs = { table: table as string, version, columns, rows: checked.rows, dependencies: deps, artifactValues: checked.artifactValues, uuid: globalThis.crypto.randomUUID() }
          return await this.op(ctx, call, ops.writeInstance, args)
        } finally {
          for (const h of pinned) ctx.blobs.unpin(h)
        }
      },
      ctx.writesRun,
    )
  }

  /** An instance's data, column by column (the client assembles the Arrow table). */
  async get(ctx: CallContext, table: unknown, options: GetOptions = {}): Promise<InstanceData> {
    checkTableName(table)
    if (options.instanceId !== undefined) checkInstanceId(options.instanceId)
    const t = mustFindTable(ctx.db, table)
    const i = pickInstance(ctx.db, t, {
      instanceId: options.instanceId,
      version: options.instanceId === undefined ? versionOf(options.version) : undefined,
      activeOnly: options.activeOnly === undefined ? true : optionalBoolean(options.activeOnly, 'activeOnly'),
      successfulOnly: optionalBoolean(options.successfulOnly, 'successfulOnly'),
    })
    const columns = columnsOf(ctx.db, t.id, i.instanceId)
    for (const c of columns) {
      this.named.delete(c.hash)
      this.named.set(c.hash, true)
    }
    for (const h of this.named.keys()) {
      if (this.named.size <= NAMED_MAX) break
      this.named.delete(h)
    }
    return { instanceId: i.instanceId, rows: i.rows, columns }
  }

  /**
   * The IPC bytes of stored columns, by hash (what `get` named and the caller has not cached).
   * Only hashes some instance's column refers to, or a recent `get` named: NotFoundError otherwise.
   */
  async columnBytes(ctx: CallContext, hashes: unknown): Promise<Uint8Array[]> {
    if (!Array.isArray(hashes) || hashes.some((h) => typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h))) throw new InvalidArgumentError('columnBytes takes an array of column hashes')
    const out: Uint8Array[] = []
    for (const hash of hashes as string[]) {
      const referenced = ctx.db.get('SELECT 1 FROM tbl_columns WHERE hash = ? LIMIT 1', [hash]) !== undefined
      if (!referenced && !this.named.has(hash)) throw new NotFoundError(`no stored column has hash ${hash}`)
      let bytes: Uint8Array
      try {
        bytes = await this.readColumn(ctx, hash)
      } catch (err) {
        // Named by a recent get only: its instance was deleted since, and a checkpoint collected
        // its blob. Gone, not damaged.
        if (!referenced) throw new NotFoundError(`column ${hash} was deleted (with its instance or table) after the get that named it`)
        throw err
      }
      // A copy: the result may be transferred to the page, which must not detach the cached bytes.
      out.push(bytes.slice())
    }
    return out
  }

  private async readColumn(ctx: CallContext, hash: string): Promise<Uint8Array> {
    const cached = this.cache.get(hash)
    if (cached) return cached
    const bytes = await ctx.blobs.get(hash)
    this.cache.set(hash, bytes, bytes.byteLength)
    return bytes
  }

  /**
   * Execute the temporary instance of `options.version`: its builders run (code modules loaded
   * here, in the engine's realm) and the result is materialised. Resolves with the new instance id.
   */
  async execute(ctx: CallContext, call: unknown, table: unknown, options: { version?: unknown; force?: unknown; background?: unknown } = {}): Promise<OpResult> {
    checkTableName(table)
    const args = { table, version: versionOf(options.version), force: optionalBoolean(options.force, 'force') }
    const checked = checkCall(call)
    const background = optionalBoolean(options.background, 'background')
    // A process id the caller did not choose (none, or made by the client to follow it): when
    // nothing changed, the execution is one write (table-execute-reused.ts); else the ordinary way.
    if (checked.processId === null || checked.auto) {
      const done = await executeReused(this.executor, ctx, checked, args, checked.processId ?? globalThis.crypto.randomUUID())
      if (done) return done
    }
    if (!background) return this.executor.run(ctx, checked, args)
    // Background: resolves once the process is registered (its lock taken); the run goes on here,
    // remembered until it ends: `awaitBackground` follows it, so that close() waits for it.
    return new Promise<OpResult>((resolve, reject) => {
      let ended: Promise<void> | undefined
      let id: string | undefined
      const running = this.executor.run(ctx, checked, args, (processId) => {
        id = processId
        this.background.set(processId, ended!)
        resolve({ processId })
      })
      // Its outcome is the process's (status, error): here it only ends.
      ended = running.then(
        () => {},
        (err: unknown) => reject(err),
      ).finally(() => {
        if (id !== undefined && this.background.get(id) === ended) this.background.delete(id)
      })
    })
  }

  /**
   * Resolves when the background execution of `processId` ended (at once when none runs here).
   * The client calls it, without waiting, right after `execute({ background: true })`: it is an
   * ordinary call, so close() lets it finish, and the run stops at once when the vault closes
   * (see TablesExecutor): nothing is written after close().
   */
  async awaitBackground(_ctx: CallContext, processId: unknown): Promise<void> {
    if (typeof processId !== 'string') throw new InvalidArgumentError('processId must be a string')
    await this.background.get(processId)
  }

  // ---- builders ------------------------------------------------------------------------------------

  async buildersCreate(ctx: CallContext, call: unknown, table: unknown, name: unknown, spec: unknown, options: { version?: unknown } = {}): Promise<OpResult> {
    checkTableName(table)
    checkObjectName(name, 'a builder name')
    const { text } = builderText(spec, `builder "${name}"`)
    return this.op(ctx, call, ops.createBuilder, { table, name, text, version: versionOf(options.version) })
  }

  async buildersDelete(ctx: CallContext, call: unknown, table: unknown, name: unknown, options: { version?: unknown } = {}): Promise<OpResult> {
    checkTableName(table)
    checkObjectName(name, 'a builder name')
    return this.op(ctx, call, ops.deleteBuilder, { table, name, version: versionOf(options.version) })
  }

  /** The instance builders are read from: the one named, else the temporary instance of the version, else its latest. */
  private builderInstance(ctx: CallContext, t: TableRow, options: { version?: unknown; instanceId?: unknown }): string {
    if (options.instanceId !== undefined) {
      checkInstanceId(options.instanceId)
      return mustFindInstance(ctx.db, t, options.instanceId).instanceId
    }
    const version = versionOf(options.version)
    if (findInstance(ctx.db, t, tempInstanceId(version))) return tempInstanceId(version)
    const latest = instancesOf(ctx.db, t, version, false).at(-1)
    if (!latest) throw new NotFoundError(`table "${t.name}" has no instance of version "${version}"`)
    return latest.instanceId
  }

  async buildersList(ctx: CallContext, table: unknown, options: { version?: unknown; instanceId?: unknown } = {}): Promise<string[]> {
    checkTableName(table)
    const t = mustFindTable(ctx.db, table)
    const instance = this.builderInstance(ctx, t, options)
    return ctx.db.all('SELECT name FROM tbl_builders WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, instance]).map((r) => r[0] as string)
  }

  /** A builder's text; '' for one declared and not given a spec yet. */
  async buildersGet(ctx: CallContext, table: unknown, name: unknown, options: { version?: unknown; instanceId?: unknown } = {}): Promise<string> {
    checkTableName(table)
    checkObjectName(name, 'a builder name')
    const t = mustFindTable(ctx.db, table)
    const instance = this.builderInstance(ctx, t, options)
    const r = ctx.db.get('SELECT text FROM tbl_builders WHERE tbl = ? AND instance = ? AND name = ?', [t.id, instance, name])
    if (!r) throw new NotFoundError(`instance "${instance}" of table "${table}" has no builder "${name}"`)
    return (r[0] as string | null) ?? ''
  }

  // ---- code modules ----------------------------------------------------------------------------------

  async codeCreate(ctx: CallContext, call: unknown, name: unknown, text: unknown, options: { replace?: unknown } = {}): Promise<OpResult> {
    checkObjectName(name, 'a code module name')
    if (typeof text !== 'string') throw new InvalidArgumentError(`code module "${name}": its source must be a string (ES module text)`)
    checkText(text, `code module "${name}"`, 10_000_000)
    return this.op(ctx, call, ops.createCode, { name, text, replace: optionalBoolean(options.replace, 'replace') })
  }

  async codeDelete(ctx: CallContext, call: unknown, name: unknown): Promise<OpResult> {
    checkObjectName(name, 'a code module name')
    return this.op(ctx, call, ops.deleteCode, { name })
  }

  async codeList(ctx: CallContext): Promise<string[]> {
    return ctx.db.all('SELECT name FROM tbl_code ORDER BY name').map((r) => r[0] as string)
  }

  async codeGet(ctx: CallContext, name: unknown): Promise<string> {
    checkObjectName(name, 'a code module name')
    const r = ctx.db.get('SELECT text FROM tbl_code WHERE name = ?', [name])
    if (!r) throw new NotFoundError(`no code module named "${name}"`)
    return r[0] as string
  }

  // ---- artifacts ---------------------------------------------------------------------------------

  /** The owner of an instance's artifacts: the instance, or the table ('') once materialised in a table with one artifact set. */
  private artifactOwner(ctx: CallContext, t: TableRow, instanceId: unknown): string {
    if (instanceId === undefined || instanceId === null) {
      if (!t.multipleArtifacts) return ''
      const latest = instancesOf(ctx.db, t, undefined, false).at(-1)
      if (!latest) throw new NotFoundError(`table "${t.name}" has no materialised instance`)
      return latest.instanceId
    }
    checkInstanceId(instanceId)
    const i = mustFindInstance(ctx.db, t, instanceId)
    return i.temporary || t.multipleArtifacts ? i.instanceId : ''
  }

  artifactsPut(ctx: CallContext, call: unknown, table: unknown, instanceId: unknown, name: unknown, bytes: unknown): Promise<OpResult> {
    try {
      checkTableName(table)
      checkInstanceId(instanceId)
      checkObjectName(name, 'an artifact name')
      if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`artifact "${name}": its content must be a Uint8Array`)
    } catch (err) {
      return this.turns.run(() => Promise.reject(err))
    }
    // As write: the bytes go to the blob store first, in call order.
    return this.turns.after(
      ctx.blobs.put(bytes),
      async (hash) => {
        try {
          return await this.op(ctx, call, ops.putArtifact, { table, instanceId, name, hash, size: bytes.byteLength })
        } finally {
          ctx.blobs.unpin(hash)
        }
      },
      ctx.writesRun,
    )
  }

  async artifactsList(ctx: CallContext, table: unknown, instanceId: unknown): Promise<ArtifactInfo[]> {
    checkTableName(table)
    const t = mustFindTable(ctx.db, table)
    const owner = this.artifactOwner(ctx, t, instanceId)
    return ctx.db.all('SELECT name, size FROM tbl_artifacts WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, owner]).map((r) => ({ name: r[0] as string, size: r[1] as number, instanceId: owner === '' ? null : owner }))
  }

  async artifactsGet(ctx: CallContext, table: unknown, instanceId: unknown, name: unknown): Promise<Uint8Array> {
    checkTableName(table)
    checkObjectName(name, 'an artifact name')
    const t = mustFindTable(ctx.db, table)
    const owner = this.artifactOwner(ctx, t, instanceId)
    const r = ctx.db.get('SELECT hash FROM tbl_artifacts WHERE tbl = ? AND instance = ? AND name = ?', [t.id, owner, name])
    if (!r) throw new NotFoundError(`table "${table}" has no artifact "${name}"${owner ? ` in instance "${owner}"` : ''}`)
    return ctx.blobs.get(r[0] as string)
  }

  // ---- tree, locks, restart ----------------------------------------------------------------------

  async tree(ctx: CallContext, options: TreeOptions = {}): Promise<VaultTree> {
    const withBuilders = options.builders !== false
    const withArtifacts = options.artifacts === true
    const names = (sql: string, params: (string | number)[]) => ctx.db.all(sql, params).map((r) => r[0] as string)
    return {
      code: options.code === false ? [] : names('SELECT name FROM tbl_code ORDER BY name', []),
      tables: allTables(ctx.db).map((t) => ({
        name: t.name,
        description: t.description,
        ...(withArtifacts && !t.multipleArtifacts ? { artifacts: names("SELECT name FROM tbl_artifacts WHERE tbl = ? AND instance = '' ORDER BY name", [t.id]) } : {}),
        instances: instancesOf(ctx.db, t, undefined, true).map((i) => ({
          instanceId: i.instanceId,
          temporary: i.temporary,
          active: i.active,
          rows: i.rows,
          description: i.description,
          ...(withBuilders ? { builders: names('SELECT name FROM tbl_builders WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, i.instanceId]) } : {}),
          ...(withArtifacts ? { artifacts: names('SELECT name FROM tbl_artifacts WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, i.instanceId]) } : {}),
        })),
      })),
    }
  }

  /** Tables locked now, and by which process. */
  async locks(ctx: CallContext): Promise<{ table: string; processId: string }[]> {
    return ctx.db.all('SELECT tbl_name, process FROM tbl_locks ORDER BY tbl_name, process').map((r) => ({ table: r[0] as string, processId: r[1] as string }))
  }

  /** Resume (or roll back) every write operation left in flight (`openVault(..., { restart: true })`). */
  async restart(ctx: CallContext, holder: unknown): Promise<{ resumed: string[]; rolledBack: string[]; failed: string[] }> {
    if (typeof holder !== 'string' || holder === '') throw new InvalidArgumentError('restart needs the holder id')
    return this.runner.restart(ctx, holder)
  }
}

// Every other served method runs in turn too (CallTurns): after a write that came before it and
// is still storing its bytes. write and artifactsPut take their turn themselves.
let ordered = false

/**
 * Put the served methods (`methods`: the tables' method table, passed in by the domain's record:
 * imported here, it would tie the page build's chunks together) in turns, once.
 */
export function orderTablesCalls(methods: Readonly<Record<string, string>>): void {
  if (ordered) return
  ordered = true
  for (const [name, kind] of Object.entries(methods)) orderTablesCall(name, kind)
}

function orderTablesCall(name: string, kind: string): void {
  if (name === 'write' || name === 'artifactsPut') return
  const proto = TablesEngine.prototype as unknown as Record<string, (this: TablesEngine, ...args: unknown[]) => Promise<unknown>>
  const method = proto[name]!
  proto[name] = function (this: TablesEngine, ...args: unknown[]) {
    const ctx = args[0] as CallContext
    return (this as unknown as { turns: CallTurns }).turns.run(() => method.apply(this, args), kind === 'write' ? ctx.writesRun : undefined)
  }
}
