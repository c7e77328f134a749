import { tableFromIPC, tableToIPC, type Data, type Table, type Vector } from 'apache-arrow'
import { ClosedError, InvalidArgumentError, NotFoundError, StoppedError } from '../../../errors/errors.js'
import { quote } from '../../../codec/checks.js'
import type { CallContext } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { findProcess, iso, storedMessage } from '../../processes/engine/process-rows.js'
import { settleJournal } from '../../processes/engine/process-journal.js'
import { parseBuilder } from '../shared/builder-spec.js'
import { planBuilders } from '../shared/builder-plan.js'
import { columnsToTable, fieldDType } from '../shared/table-arrow.js'
import { parseTableDType, type TableDType } from '../shared/table-dtypes.js'
import { tempInstanceId } from '../shared/table-names.js'
import type { InstanceRef } from '../shared/table-types.js'
import type { BuilderProgress, BuilderResult, OriginInstance } from './compute/compute-types.js'
import type { BuilderSpec } from '../shared/builder-types.js'
import { computeInstance } from './compute/execute-builders.js'
import { BlobStore } from '../../../persistence/blob-store.js'
import { hitFault } from './table-faults.js'
import { ArtifactFolder } from './artifact-folder.js'
import { ByteBudgetCache } from '../shared/byte-budget-cache.js'
import { findOp, forgetOp, registerOp, type OpCall, type OpDef, type OpRunner } from './table-ops.js'
import { columnsOf, findInstance, findTable, instancesOf, materialize, mustFindInstance, mustFindTable, type StoredColumn } from './table-rows.js'

// `vault.tables.execute`: setup (checks, origin, side effects; its own commit only for a table with
// side effects) → compute (B's executor, outside any write: each finished builder's columns are
// stored as blobs and listed in the operation's state, written once SAVE_AFTER_MS of work
// accumulated and before pausing or failing, so a paused run resumes at the next builder and
// `stop(..., { materialize })` can keep them) → materialise (one write: the instance, its
// fingerprints, the takedown).

/** What execute's arguments are (stored with the operation). */
export interface ExecuteArgs {
  table: string
  version: string
  force: boolean
}

/** A finished builder's result as stored in the operation's state. */
interface StoredResult {
  builder: string
  kind: 'index' | 'column'
  fingerprint: string
  dependencies: InstanceRef[]
  computed: number
  reused: number
  rows: number
  columns: StoredColumn[]
}

/** Execute's state: the origin it reuses from, what it deactivated, the builders done so far. */
export interface ExecuteState {
  origin: InstanceRef | null
  deactivated: string[]
  completed: StoredResult[]
  /** Artifacts put during the run, with what they replaced (undo restores it). */
  artifacts: { name: string; previous: { hash: string; size: number } | null }[]
}

/** The partial result: the index and the column builders that finished. */
function partialMaterialization(db: SqliteDatabase, a: ExecuteArgs, s: ExecuteState, now: number): void {
  const t = mustFindTable(db, a.table)
  const index = s.completed.find((r) => r.kind === 'index')
  if (!index) return
  const columns = s.completed.flatMap((r) => r.columns)
  materialize(db, t, a.version, { columns, rows: index.rows, dependencies: [], successful: false, artifactValues: {}, uuid: globalThis.crypto.randomUUID() }, now)
}

/**
 * What an execution of `a` would run: the checks of setup (a temporary instance that is not an
 * external edit, every builder with a spec, an order without cycles), its parsed builders and the
 * origin rows are reused from (the explicit origin, else the latest instance of the version, else
 * the latest). Reads only.
 */
export function executionPlan(db: SqliteDatabase, a: ExecuteArgs): { t: ReturnType<typeof mustFindTable>; specs: BuilderSpec[]; origin: InstanceRef | null } {
  const t = mustFindTable(db, a.table)
  const temp = tempInstanceId(a.version)
  const i = findInstance(db, t, temp)
  if (!i) throw new NotFoundError(`table "${a.table}" has no temporary instance "${temp}" to execute (createInstance first)`)
  if (i.externalEdit) throw new InvalidArgumentError(`instance "${temp}" of table "${a.table}" is an external edit: it is written by write(), it cannot be executed`)
  const specs = builderSpecs(db, t.id, temp, a.table)
  planBuilders(a.table, specs)
  const origin = i.origin ?? (() => {
    const latest = instancesOf(db, t, a.version, false).at(-1) ?? instancesOf(db, t, undefined, false).at(-1)
    return latest ? { table: t.name, instanceId: latest.instanceId } : null
  })()
  return { t, specs, origin }
}

export const executeDef: OpDef<ExecuteArgs, ExecuteState, { instanceId: string }> = {
  name: 'execute',
  resumable: true,
  locks: (a) => [a.table],
  setup(db, a) {
    const { t, origin } = executionPlan(db, a)
    const deactivated: string[] = []
    if (t.sideEffects) {
      // TableVault: once a table with side effects starts executing, its other instances are stale.
      for (const r of db.all('SELECT id FROM tbl_instances WHERE tbl = ? AND temp = 0 AND active = 1', [t.id])) deactivated.push(r[0] as string)
      db.run('UPDATE tbl_instances SET active = 0 WHERE tbl = ? AND temp = 0', [t.id])
    }
    return { origin, deactivated, completed: [], artifacts: [] }
  },
  execute() {
    throw new Error('execute materialises through TablesExecutor')
  },
  undo(db, a, s) {
    const t = mustFindTable(db, a.table)
    for (const id of s.deactivated) db.run('UPDATE tbl_instances SET active = 1 WHERE tbl = ? AND id = ?', [t.id, id])
    const temp = tempInstanceId(a.version)
    for (const art of [...s.artifacts].reverse()) {
      if (art.previous) db.run('INSERT OR REPLACE INTO tbl_artifacts (tbl, instance, name, hash, size) VALUES (?, ?, ?, ?, ?)', [t.id, temp, art.name, art.previous.hash, art.previous.size])
      else db.run('DELETE FROM tbl_artifacts WHERE tbl = ? AND instance = ? AND name = ?', [t.id, temp, art.name])
    }
  },
  keep(db, a, s, now) {
    // Stopped with materialize before its index builder finished: there is no partial result to
    // keep, so this is a rollback and setup's changes are undone as one (a table with side effects
    // got its deactivated instances back; before, they stayed inactive with no new instance, and
    // `get` found no active instance at all).
    if (!s.completed.some((r) => r.kind === 'index')) return executeDef.undo!(db, a, s)
    partialMaterialization(db, a, s, now)
  },
}
registerOp(executeDef)

/** Parsed specs by (table, name, text): a spec's text is parsed (YAML) once, not at every execute. */
const parsedSpecs = new Map<string, ReturnType<typeof parseBuilder>>()

/** The parsed builders of an instance; a declared builder without a spec is an error naming it. */
function builderSpecs(db: SqliteDatabase, tbl: number, instance: string, table: string) {
  return db.all('SELECT name, text FROM tbl_builders WHERE tbl = ? AND instance = ? ORDER BY name', [tbl, instance]).map((r) => {
    if (r[1] === null) throw new InvalidArgumentError(`builder "${r[0]}" of instance "${instance}" of table "${table}" has no spec yet (vault.tables.builders.create)`)
    const key = `${table}\u0000${r[0] as string}\u0000${r[1] as string}`
    let spec = parsedSpecs.get(key)
    if (!spec) {
      spec = parseBuilder(r[1] as string, { table, name: r[0] as string })
      if (parsedSpecs.size >= 512) parsedSpecs.clear()
      parsedSpecs.set(key, spec)
    }
    return spec
  })
}

/** What an instance's data is: its columns' names, dtypes and content hashes. */
function contentKey(db: SqliteDatabase, tbl: number, instance: string): string {
  return JSON.stringify(columnsOf(db, tbl, instance))
}

/** How much builder work (ms) may finish before the operation's state is written (group commit). */
const SAVE_AFTER_MS = 250

/** Runs `execute`: the compute between the operation's writes. */
export class TablesExecutor {
  /**
   * The stored column each decoded column came from (by its Arrow data, which a reused column
   * keeps): such a column is stored again by its hash, without encoding and hashing it again.
   */
  private readonly storedAs = new WeakMap<Data, { hash: string; dtype: string }>()
  /**
   * Recently decoded columns by hash (a stored column never changes): a re-execution reads its
   * origin (and its dependencies) without decoding them again. Arrow data is immutable here.
   */
  /** Recently decoded columns by hash: a re-execution reads its origin and dependencies without decoding them again. */
  private readonly decoded = new ByteBudgetCache<Vector>(128 * 1024 * 1024)

  constructor(
    private readonly runner: OpRunner,
    private readonly services: () => EngineServices | undefined,
    private readonly readColumn: (ctx: CallContext, hash: string) => Promise<Uint8Array>,
    /** Keep a column's bytes as just stored (a re-execution reads them back as its origin). */
    private readonly rememberColumn: (hash: string, bytes: Uint8Array) => void = () => {},
  ) {}

  /** An instance as Arrow (every column, each field with its dtype). */
  async readInstance(ctx: CallContext, table: string, instanceId: string, columns?: readonly string[]): Promise<Table> {
    const t = mustFindTable(ctx.db, table)
    const i = mustFindInstance(ctx.db, t, instanceId)
    const all = columnsOf(ctx.db, t.id, i.instanceId)
    // A missing column is named here, with the instance's columns: the reader of the result sees
    // only those asked for, and would list none.
    const missing = columns?.find((c) => !all.some((s) => s.name === c))
    if (missing !== undefined) throw new NotFoundError(`table ${quote(table)} has no column ${quote(missing)} (its columns: ${all.map((c) => c.name).join(', ')})`)
    const stored = all.filter((c) => !columns || columns.includes(c.name))
    const parts: { name: string; dtype: TableDType; vector: Vector }[] = []
    // The columns' blobs are pinned from this tick (their rows' read) until all are loaded: the
    // instance (another table's, which this execution does not lock) may be deleted meanwhile.
    await ctx.blobs.reading(stored.map((c) => c.hash), async () => {
      for (const c of stored) parts.push({ name: c.name, dtype: parseTableDType(c.dtype), vector: await this.decodeColumn(ctx, c) })
    })
    return columnsToTable(parts, i.rows)
  }

  /** A stored column as an Arrow vector (remembered as stored, see {@link storedAs}). */
  private async decodeColumn(ctx: CallContext, c: StoredColumn): Promise<Vector> {
    const hit = this.decoded.get(c.hash)
    if (hit) return hit
    const bytes = await this.readColumn(ctx, c.hash)
    const vector = tableFromIPC(bytes).getChildAt(0)!
    if (vector.data.length === 1) this.storedAs.set(vector.data[0]!, { hash: c.hash, dtype: c.dtype })
    this.decoded.set(c.hash, vector, bytes.byteLength)
    return vector
  }

  /**
   * Store a column's bytes: a blob some instance already refers to (a reused column, byte for byte
   * the origin's) is not written again; otherwise it is put (and pinned until the caller unpins).
   */
  async putColumn(ctx: CallContext, ipc: Uint8Array, pins: string[]): Promise<string> {
    const hash = await BlobStore.hash(ipc)
    if (!ctx.db.get('SELECT 1 FROM tbl_columns WHERE hash = ? LIMIT 1', [hash])) pins.push(await ctx.blobs.put(ipc, hash))
    this.rememberColumn(hash, ipc)
    return hash
  }

  /** Store a result's columns (a column stored already, reused as it is, by its hash) into `s.completed`; returns the pins. */
  async storeResult(ctx: CallContext, r: BuilderResult, s: ExecuteState): Promise<string[]> {
    const pins: string[] = []
    const columns: StoredColumn[] = []
    for (const f of r.columns.schema.fields) {
      const dtype = fieldDType(f)?.name ?? 'msgpack?'
      const vector = r.columns.getChild(f.name)!
      const known = vector.data.length === 1 ? this.storedAs.get(vector.data[0]!) : undefined
      if (known && known.dtype === dtype) columns.push({ name: f.name, dtype, hash: known.hash })
      else columns.push({ name: f.name, dtype, hash: await this.putColumn(ctx, tableToIPC(r.columns.select([f.name]), 'stream'), pins) })
    }
    s.completed.push({ builder: r.builder, kind: r.kind, fingerprint: r.fingerprint, dependencies: [...r.dependencies], computed: r.computed, reused: r.reused, rows: r.columns.numRows, columns })
    return pins
  }

  private async restoreResult(ctx: CallContext, s: StoredResult): Promise<BuilderResult> {
    const parts = []
    for (const c of s.columns) parts.push({ name: c.name, dtype: parseTableDType(c.dtype), vector: await this.decodeColumn(ctx, c) })
    return { builder: s.builder, kind: s.kind, fingerprint: s.fingerprint, dependencies: s.dependencies, computed: s.computed, reused: s.reused, columns: columnsToTable(parts, s.rows) }
  }

  /** Throws StoppedError when the operation was stopped (its row is gone) or its process is no longer running. */
  private checkAlive(db: SqliteDatabase, processId: string): void {
    const p = findProcess(db, processId)
    if (!findOp(db, processId) || !p || p.status === 'stopped' || p.request === 'stop') throw new StoppedError(`process "${processId}" was stopped`)
  }

  /**
   * The vault is closing: the run ends here (ClosedError; its process is left paused, to resume)
   * rather than write after close() (src/domains/tables/engine/tables-engine.ts).
   */
  private checkOpen(processId: string): void {
    if (this.services()?.closing) throw new ClosedError(`the vault was closed while process "${processId}" was executing; openVault(..., { restart: true }) resumes it`)
  }

  /**
   * While the builders run: a stop (also forced: `processes.stop(id, { force: true })`, which the
   * caller's `signal` uses) or the vault closing aborts the run's signal within about 100 ms, also
   * during one long builder call, which sees it as `ctx.signal` (before, only a progress report or
   * a builder's end looked, so a call waiting on `ctx.signal` was never told). Returns what stops
   * the watch.
   */
  private watchWhileComputing(ctx: CallContext, processId: string, abort: AbortController): () => void {
    let watching = true
    const look = async (): Promise<void> => {
      while (watching && !abort.signal.aborted) {
        const services = this.services()
        await (services ? services.nextChange(100) : new Promise((r) => setTimeout(r, 100)))
        if (!watching) return
        try {
          this.checkOpen(processId)
          // Another process's stop reaches this engine's database with its next refresh.
          await services?.refresh()
          if (watching) this.checkAlive(ctx.db, processId)
        } catch (err) {
          if (watching) abort.abort(err)
        }
      }
    }
    void look()
    return () => {
      watching = false
    }
  }

  /**
   * Between builders: honour the process's signals. A pause request pauses it here (status
   * `paused`, locks kept) until `processes.resume(id)`; a stop ends it (StoppedError).
   */
  private async honourSignals(ctx: CallContext, processId: string, save: () => Promise<void>): Promise<void> {
    for (;;) {
      this.checkOpen(processId)
      await this.services()?.refresh()
      this.checkAlive(ctx.db, processId)
      const p = findProcess(ctx.db, processId)!
      if (p.request === 'pause' || p.request === 'resume') {
        // A paused operation's state must hold every builder finished so far.
        if (p.request === 'pause') await save()
        await ctx.write(() => ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ? WHERE id = ?', [p.request === 'pause' ? 'paused' : 'running', iso(Date.now()), processId]))
        continue
      }
      if (p.status !== 'paused') return
      const services = this.services()
      if (services?.closing) throw new StoppedError(`the vault is closing; process "${processId}" cannot wait`)
      await (services ? services.nextChange(200) : new Promise((r) => setTimeout(r, 50)))
    }
  }

  /** The origin to reuse rows from, as Arrow with its fingerprints; none with `force` or when it is gone. */
  async originFor(ctx: CallContext, ref: InstanceRef | null, force: boolean): Promise<OriginInstance | undefined> {
    if (!ref || force) return undefined
    // An origin whose table was deleted is gone as much as a deleted origin instance: nothing to
    // reuse, the builders (copied at createInstance) compute everything. (mustFindTable here made
    // such an instance impossible to execute: NotFoundError naming the deleted table.)
    const ot = findTable(ctx.db, ref.table)
    if (!ot || !findInstance(ctx.db, ot, ref.instanceId)) return undefined
    const fingerprints = Object.fromEntries(ctx.db.all('SELECT builder, fingerprint FROM tbl_fingerprints WHERE tbl = ? AND instance = ?', [ot.id, ref.instanceId]).map((r) => [r[0] as string, r[1] as string]))
    return { instanceId: ref.instanceId, table: await this.readInstance(ctx, ref.table, ref.instanceId), fingerprints }
  }

  /** What the compute engine is given to run the builders of `TEMP_<version>` (origin, progress and persistence aside). */
  request(ctx: CallContext, args: ExecuteArgs, specs: BuilderSpec[], processId: string, s: ExecuteState) {
    const t = mustFindTable(ctx.db, args.table)
    const temp = tempInstanceId(args.version)
    return {
      table: args.table,
      instanceId: temp,
      builders: specs,
      code: async (module: string) => {
        const r = ctx.db.get('SELECT text FROM tbl_code WHERE name = ?', [module])
        if (!r) throw new NotFoundError(`no code module named "${module}"`)
        return r[0] as string
      },
      source: {
        resolveInstance: async (table: string, instance: string | undefined) => {
          const rt = mustFindTable(ctx.db, table)
          if (instance !== undefined) return mustFindInstance(ctx.db, rt, instance).instanceId
          const all = instancesOf(ctx.db, rt, undefined, false)
          const latest = all.filter((i) => i.active).at(-1)
          if (!latest) throw new NotFoundError(`table "${table}" has no active materialised instance`)
          // An instance whose data is identical to an earlier one's (re-executed with every row
          // reused) stands for that one: what reads it is unchanged, so its rows are reused too.
          const key = contentKey(ctx.db, rt.id, latest.instanceId)
          return all.find((i) => contentKey(ctx.db, rt.id, i.instanceId) === key)!.instanceId
        },
        read: (table: string, instanceId: string, columns?: readonly string[]) => this.readInstance(ctx, table, instanceId, columns),
      },
      force: args.force,
      artifactFolder: new ArtifactFolder(ctx, t.id, temp, processId, (name, previous) => {
        s.artifacts.push({ name, previous })
        return s
      }),
      // What the folder shows now (artifacts put by earlier builders of this run included).
      artifacts: async () => ctx.db.all('SELECT name, hash FROM tbl_artifacts WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, temp]).map((r) => [r[0] as string, r[1] as string] as const),
      processId,
    }
  }

  async run(ctx: CallContext, call: OpCall, args: ExecuteArgs, onRegistered?: (processId: string) => void): Promise<{ processId: string; instanceId: string }> {
    const auto = call.auto === true || call.processId === null || call.processId === undefined
    const processId = call.processId ?? globalThis.crypto.randomUUID()
    const row = await this.runner.register(ctx, { ...call, processId }, executeDef, args, processId)
    onRegistered?.(processId)
    const pins: string[] = []
    /** Builders finished since the state was last written (see onBuilderDone). */
    let unsaved = false
    let lastSave = performance.now()
    let state = row.state as ExecuteState | null
    // The state as it is in memory, into the operation's row (when it still has one).
    const save = async (): Promise<void> => {
      if (!unsaved || !state) return
      const text = JSON.stringify(state)
      await ctx.write(() => {
        if (findOp(ctx.db, processId)) ctx.db.run('UPDATE tbl_ops SET step = ?, state = ? WHERE process = ?', ['execute', text, processId])
      })
      unsaved = false
    }
    try {
      if (row.step === 'setup' && mustFindTable(ctx.db, args.table).sideEffects) {
        state = await ctx.write(() => {
          const s = executeDef.setup(ctx.db, args, Date.now())
          hitFault('execute', 'setup')
          ctx.db.run('UPDATE tbl_ops SET step = ?, state = ? WHERE process = ?', ['execute', JSON.stringify(s), processId])
          return s
        })
      } else if (row.step === 'setup') {
        // Without side effects setup only checks and reads (the origin): no commit of its own. Its
        // state (and the step) is written with the first save, or never when the execution
        // materialises first; a crash before then starts the operation over at setup.
        state = executeDef.setup(ctx.db, args, Date.now())
        hitFault('execute', 'setup')
        unsaved = true
      }
      const s = state!
      const t = mustFindTable(ctx.db, args.table)
      const temp = tempInstanceId(args.version)
      const specs = builderSpecs(ctx.db, t.id, temp, args.table)
      const origin = await this.originFor(ctx, s.origin, args.force)
      const completed = []
      for (const c of s.completed) completed.push(await this.restoreResult(ctx, c))
      const abort = new AbortController()
      // The first progress write comes 100 ms in: a short execution commits none (its final
      // progress is written when it materialises).
      let lastProgress = Date.now()
      const progress: Record<string, BuilderProgress> = {}
      const stopWatching = this.watchWhileComputing(ctx, processId, abort)
      const result = await computeInstance({
        ...this.request(ctx, args, specs, processId, s),
        origin,
        completed,
        signal: abort.signal,
        // Progress is stored every 100 ms at most: fast row-wise runs need not report every row.
        progressIntervalMs: 100,
        onProgress: (p) => {
          progress[p.builder] = p
          const now = Date.now()
          if (now - lastProgress < 100) return
          lastProgress = now
          try {
            this.checkOpen(processId)
            this.checkAlive(ctx.db, processId)
          } catch (err) {
            abort.abort(err)
            return
          }
          void ctx.write(() => ctx.db.run('UPDATE processes SET progress = ?, updated_at = ? WHERE id = ?', [JSON.stringify(Object.values(progress)), iso(now), processId])).catch(() => {})
        },
        onBuilderDone: async (r) => {
          pins.push(...(await this.storeResult(ctx, r, s)))
          unsaved = true
          // Finished builders are written to the state together, once the work since the last
          // write is worth a commit of its own, and always before pausing or failing (save): a
          // crash loses at most SAVE_AFTER_MS of builder work (restart runs those builders again).
          if (performance.now() - lastSave >= SAVE_AFTER_MS) {
            await ctx.write(() => {
              this.checkAlive(ctx.db, processId)
              ctx.db.run('UPDATE tbl_ops SET step = ?, state = ? WHERE process = ?', ['execute', JSON.stringify(s), processId])
            })
            unsaved = false
            lastSave = performance.now()
          }
          await this.honourSignals(ctx, processId, save)
        },
      }).finally(stopWatching)
      hitFault('execute', 'execute')
      // Every column was stored as its builder finished: the instance is made of those blobs.
      const byName = new Map(s.completed.flatMap((r) => r.columns).map((c) => [c.name, c]))
      const columns: StoredColumn[] = []
      for (const f of result.table.schema.fields) {
        const done = byName.get(f.name)
        if (done) columns.push(done)
        else columns.push({ name: f.name, dtype: fieldDType(f)?.name ?? 'msgpack?', hash: await this.putColumn(ctx, tableToIPC(result.table.select([f.name]), 'stream'), pins) })
      }
      const artifactValues: Record<string, (string | null)[]> = {}
      for (const f of result.table.schema.fields) {
        if (fieldDType(f)?.kind === 'artifact') artifactValues[f.name] = (result.table.getChild(f.name)!.toArray() as (string | null)[]).map((v) => v ?? null)
      }
      const instanceId = await ctx.write(() => {
        const now = Date.now()
        this.checkAlive(ctx.db, processId)
        const tt = mustFindTable(ctx.db, args.table)
        const id = materialize(ctx.db, tt, args.version, { columns, rows: result.table.numRows, dependencies: [...result.dependencies], successful: true, artifactValues, uuid: globalThis.crypto.randomUUID(), fingerprints: { ...result.fingerprints } }, now)
        ctx.db.run("DELETE FROM process_journal WHERE process = ? AND op LIKE 'tables.%'", [processId])
        forgetOp(ctx.db, processId)
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, progress = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['done', JSON.stringify(Object.values(progress)), iso(now), iso(now), processId])
        return id
      })
      return { processId, instanceId }
    } catch (err) {
      // Kept (paused, or stopped with materialize): what finished must be in the state.
      await save().catch(() => {})
      await this.failed(ctx, processId, auto, err)
      throw err
    } finally {
      for (const h of pins) ctx.blobs.unpin(h)
    }
  }

  /** After an error: nothing to do when it was stopped; without a process id, a full rollback; else the runner's rule. */
  private async failed(ctx: CallContext, processId: string, auto: boolean, err: unknown): Promise<void> {
    if (!findOp(ctx.db, processId)) return
    if (err instanceof StoppedError && findProcess(ctx.db, processId)?.request === 'stop') {
      // A stop request (not forced) reached it between builders: settle as processes.stop would.
      await ctx
        .write(() => {
          const p = findProcess(ctx.db, processId)!
          settleJournal(ctx.db, processId, p.materialize ? 'keep' : 'rollback')
          const now = iso(Date.now())
          ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = ? WHERE id = ?', ['stopped', now, now, processId])
        })
        .catch(() => {})
      return
    }
    if (err instanceof ClosedError) {
      // Closed mid-run (its finished builders saved): paused, lock kept, as after a crash;
      // `openVault(..., { restart: true })` resumes it, `processes.stop(id)` ends it.
      const message = storedMessage(`${err.name}: ${err.message}`)
      await ctx
        .write(() => ctx.db.run('UPDATE processes SET status = ?, request = NULL, error = ?, updated_at = ? WHERE id = ?', ['paused', message, iso(Date.now()), processId]))
        .catch(() => {})
      return
    }
    if (!auto) return this.runner.interrupted(ctx, processId, err)
    await ctx
      .write(() => {
        const row = findOp(ctx.db, processId)
        if (row && row.state !== null) executeDef.undo!(ctx.db, row.args as ExecuteArgs, row.state as ExecuteState)
        forgetOp(ctx.db, processId)
        // No process id was asked for: everything is rolled back; the process shows it failed, and why.
        ctx.db.run('DELETE FROM process_journal WHERE process = ?', [processId])
        const now = iso(Date.now())
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, error = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['failed', storedMessage(err instanceof Error ? `${err.name}: ${err.message}` : String(err)), now, now, processId])
      })
      .catch(() => {})
  }

  /** Resume a registered execute (restart): the same run, from its step. */
  async resume(ctx: CallContext, holder: string, processId: string): Promise<void> {
    const row = findOp(ctx.db, processId)
    if (!row) return
    await this.run(ctx, { holder, processId, lockTimeoutMs: 0 }, row.args as ExecuteArgs)
  }
}
