import * as arrow from 'apache-arrow'
import { makeVector, type Table, type Vector } from 'apache-arrow'
import { InvalidArgumentError } from '../../../../errors/errors.js'
import { quote } from '../../../../codec/checks.js'
import { planBuilders, builderReads, referencedColumns } from '../../shared/builder-plan.js'
import { argumentStrings } from '../../shared/builder-spec.js'
import type { BuilderPlan, BuilderSpec, ColumnBuilderSpec, IndexBuilderSpec } from '../../shared/builder-types.js'
import { allReferences, findReferences, KEYWORDS } from '../../shared/table-references.js'
import { inferTableDType, parseTableDType, storedValue, type TableDType } from '../../shared/table-dtypes.js'
import {
  columnStored, columnValues, columnsToTable, fieldDType, storedToVector, vectorStored, type StoredColumn,
} from '../../shared/table-arrow.js'
import { compileArguments, tableData, type TableData } from './arguments.js'
import { isIterator, putRow, rowsOutput } from './builder-output.js'
import type { BuilderContext, BuilderResult, ComputeRequest, ComputeResult, InstanceRef } from './compute-types.js'
import { builderFingerprint } from './fingerprint.js'
import { exportedFunction, loadCodeModule } from './module-loader.js'
import { rowKeys, sameValues, sameVector, SelfColumn } from './instance-columns.js'
import { runRowWise, untilAborted, yieldToEventLoop, YIELD_EVERY_MS } from './row-wise.js'

/**
 * The executor: runs an instance's builders in order into columns, reusing the origin's rows where
 * a builder's fingerprint is unchanged (README.md beside this file has the semantics).
 */

/** The typed arrays numeric dtypes are stored in. */
const NUMERIC = { i32: Int32Array, f32: Float32Array, f64: Float64Array, i64: BigInt64Array } as const

/** True when every value is a number, bigint or string of one type, each greater than the one before. */
function increasing(values: ArrayLike<unknown>): boolean {
  const n = values.length
  if (n === 0) return true
  const type = typeof values[0]
  if (type !== 'number' && type !== 'bigint' && type !== 'string') return false
  for (let i = 1; i < n; i++) {
    const v = values[i]
    if (typeof v !== type || !((values[i - 1] as number) < (v as number))) return false
  }
  return true
}

/** A column of the origin as stored values (its typed array when it is numeric without nulls). */
function originValues(table: Table, column: string): ArrayLike<unknown> {
  const v = table.getChild(column)!
  const typed = v.nullCount === 0 && v.data.length === 1 ? (v.toArray() as ArrayLike<unknown>) : undefined
  return typed && ArrayBuffer.isView(typed) && !(typed instanceof Uint8Array) ? typed : columnStored(table, column)
}

/** Thrown inside a reuse-only execution when a builder would have to run (never escapes). */
class MustRun {}

class Execution {
  readonly signal: AbortSignal
  /** Stop (MustRun) before any builder function would be called or any row computed. */
  reuseOnly = false
  rowCount = 0
  readonly self = new Map<string, SelfColumn>()
  readonly fingerprints = new Map<string, string>()
  /**
   * What a builder reading another's columns through `self` hashes of it: its fingerprint, except
   * that an index builder's artifacts are left out. Rows are reused by primary key, so new files
   * that add rows must not make every reader recompute its old rows (only the new rows are computed).
   */
  readonly readAs = new Map<string, string>()
  readonly madeBy = new Map<string, string>()
  /** Row → origin row with the same primary key, or -1 (undefined: no origin, or the identity). */
  originRow: Int32Array | undefined
  /** Row i is the origin's row i, for every row of both (then no `originRow` is made). */
  originIdentity = false
  readonly loaded = new Map<string, Promise<Table>>()

  constructor(readonly req: ComputeRequest, readonly plan: BuilderPlan) {
    this.signal = req.signal ?? new AbortController().signal
    for (const s of [plan.index, ...plan.columns]) for (const c of s.changedColumns) this.madeBy.set(c, s.name)
  }

  async run(): Promise<ComputeResult> {
    const prior = new Map((this.req.completed ?? []).map((r) => [r.builder, r]))
    const results: BuilderResult[] = []
    for (const spec of [this.plan.index, ...this.plan.columns]) {
      this.signal.throwIfAborted()
      const done = prior.get(spec.name)
      let r: BuilderResult
      if (done) r = await this.adopt(spec, done)
      else {
        r = spec.kind === 'index' ? await this.runIndex(spec) : await this.runColumn(spec)
        await this.req.onBuilderDone?.(r)
      }
      results.push(r)
    }
    const columns: StoredColumn[] = []
    for (const spec of [this.plan.index, ...this.plan.columns]) {
      for (const c of spec.changedColumns) {
        const s = this.self.get(c)!
        columns.push({ name: c, dtype: s.dtype, vector: s.vector })
      }
    }
    const deps = new Map<string, InstanceRef>()
    for (const r of results) for (const d of r.dependencies) deps.set(`${d.table}\u0000${d.instanceId}`, d)
    return {
      table: columnsToTable(columns, this.rowCount),
      fingerprints: Object.fromEntries(this.fingerprints),
      builders: results,
      dependencies: [...deps.values()],
    }
  }

  fail(builder: string, msg: string): never {
    throw new InvalidArgumentError(`builder ${quote(builder)} of table ${quote(this.req.table)}: ${msg}`)
  }

  /** A result from an earlier, paused run: its columns join the instance as they are. */
  async adopt(spec: BuilderSpec, r: BuilderResult): Promise<BuilderResult> {
    const t = r.columns
    if (spec.kind === 'column' && t.numRows !== this.rowCount) this.fail(spec.name, `its completed result has ${t.numRows} rows; the index has ${this.rowCount}`)
    for (const c of spec.changedColumns) {
      const field = t.schema.fields.find((f) => f.name === c)
      if (!field) this.fail(spec.name, `its completed result has no column ${quote(c)}`)
      const vector = t.getChild(c)!
      this.self.set(c, new SelfColumn(fieldDType(field) ?? inferTableDType(vectorStored(vector)), { vector }))
    }
    if (spec.kind === 'index') {
      this.rowCount = t.numRows
      this.mapOrigin(spec)
    }
    this.fingerprints.set(spec.name, r.fingerprint)
    this.readAs.set(spec.name, spec.kind === 'index' && usesArtifactFolder(spec) ? (await this.prepare(spec)).readAs : r.fingerprint)
    return r
  }

  /**
   * Resolve what a builder reads and its fingerprint. The referenced tables' data is loaded later
   * (`load`), only when the builder runs: a reused builder reads nothing.
   */
  async prepare(spec: BuilderSpec): Promise<{ deps: InstanceRef[]; fingerprint: string; readAs: string; source: string; ids: Map<string, string> }> {
    const reads = builderReads(spec, [...this.self.keys()])
    const deps: InstanceRef[] = []
    const ids = new Map<string, string>()
    for (const t of reads.tables) {
      const instanceId = await this.req.source.resolveInstance(t.table, t.instance)
      ids.set(`${t.table}\u0000${t.instance ?? ''}`, instanceId)
      deps.push({ table: t.table, instanceId })
    }
    const source = await this.req.code(spec.function.module)
    const selfInputs = [...new Set(reads.selfColumns.map((c) => this.readAs.get(this.madeBy.get(c)!)!))]
    // A builder given the artifact folder reads the artifacts: their names and hashes are inputs.
    // Without a way to list them (no `artifacts` in the request), a unique stand-in: never reused.
    const artifacts = usesArtifactFolder(spec)
      ? (this.req.artifacts ? await this.req.artifacts() : [['', globalThis.crypto.randomUUID()] as const])
      : undefined
    const fingerprint = await builderFingerprint({ spec, moduleSource: source, dependencies: deps, selfInputs, artifacts })
    const readAs = artifacts && spec.kind === 'index' ? await builderFingerprint({ spec, moduleSource: source, dependencies: deps, selfInputs }) : fingerprint
    if (!this.readAs.has(spec.name)) this.readAs.set(spec.name, readAs)
    return { deps, fingerprint, readAs, source, ids }
  }

  /** Load the referenced tables' columns a builder's arguments read, and its `self` view. */
  async load(spec: BuilderSpec, ids: Map<string, string>): Promise<{ selfData: TableData; tables: Map<string, TableData> }> {
    // The columns each referenced table must supply ('*' when a reference selects none).
    const want = new Map<string, Set<string> | '*'>()
    for (const s of argumentStrings(spec.arguments)) {
      for (const { ref } of findReferences(s)) {
        for (const r of allReferences(ref)) {
          if (r.self) continue
          const key = `${r.table}\u0000${r.instance ?? ''}`
          const cols = referencedColumns(r)
          const have = want.get(key)
          if (cols === '*' || have === '*') want.set(key, '*')
          else want.set(key, new Set([...(have ?? []), ...cols]))
        }
      }
    }
    const tables = new Map<string, TableData>()
    for (const [key, cols] of want) {
      const table = key.slice(0, key.indexOf('\u0000'))
      const id = ids.get(key)!
      const cacheKey = `${table}\u0000${id}\u0000${cols === '*' ? '*' : [...cols].sort().join('\u0000')}`
      let p = this.loaded.get(cacheKey)
      if (!p) {
        p = this.req.source.read(table, id, cols === '*' ? undefined : [...cols])
        this.loaded.set(cacheKey, p)
      }
      const t = await p
      tables.set(key, tableData(table, t.numRows, t.schema.fields.map((f) => f.name), (c) => columnValues(t, c)))
    }
    const self = this.self
    const selfData = tableData(this.req.table, this.rowCount, [...self.keys()], (c) => self.get(c)!.readable, (c) => self.get(c)!.indexable)
    return { selfData, tables }
  }

  /** A builder call's result, or the execution's abort as soon as it comes (see {@link untilAborted}); a plain value as it is. */
  untilAborted<T>(out: T | PromiseLike<T>): T | Promise<T> {
    return out !== null && typeof out === 'object' && typeof (out as PromiseLike<T>).then === 'function' ? untilAborted(out as PromiseLike<T>, this.signal) : (out as T)
  }

  context(builder: string, index: number | undefined, rows: number | undefined): BuilderContext {
    const ctx: BuilderContext = {
      table: this.req.table, instanceId: this.req.instanceId, builder, rows,
      processId: this.req.processId, artifactFolder: this.req.artifactFolder, signal: this.signal, arrow,
    }
    return index === undefined ? ctx : { ...ctx, index }
  }

  async callable(spec: BuilderSpec, source: string): Promise<(args: unknown, ctx: BuilderContext) => unknown> {
    // The import itself may never settle (a module whose top-level await waits forever): like a
    // builder call, it is not waited for once the execution is aborted (its signal, a forced stop,
    // close()); before, execute ignored its signal there and close() hung.
    const { namespace } = await this.untilAborted(loadCodeModule(spec.function.module, source))
    return exportedFunction(namespace, spec.function.module, spec.function.export, spec.name)
  }

  resolver(spec: BuilderSpec, p: { selfData: TableData; tables: Map<string, TableData> }) {
    return compileArguments(spec.arguments, {
      builder: spec.name, self: p.selfData,
      table: (name, instance) => p.tables.get(`${name}\u0000${instance ?? ''}`)!,
      artifactFolder: this.req.artifactFolder, processId: this.req.processId,
    })
  }

  /** Drain a generator's yields into `values`, one row each; returns how many it yielded. */
  async drain(spec: BuilderSpec, it: Iterator<unknown> | AsyncIterator<unknown>, values: unknown[][], max: number | undefined, onRow: (n: number) => void): Promise<number> {
    let n = 0
    let lastYield = performance.now()
    try {
      for (;;) {
        // A generator whose steps settle through microtasks alone (a sync one, or an async one that
        // awaits nothing pending) would otherwise hold the thread until it ends, and one that never
        // ends would hang execute: no abort, stop or close() could get through.
        // The clock is read every step: a step costs at least a microtask, which costs more.
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop()
          lastYield = performance.now()
        }
        this.signal.throwIfAborted()
        const step = await this.untilAborted(it.next())
        if (step.done) return n
        if (max !== undefined && n >= max) this.fail(spec.name, `its generator yielded more rows than the index has (${max})`)
        putRow(step.value, spec.changedColumns, values, n, spec.name)
        onRow(++n)
      }
    } catch (err) {
      // An async generator aborted in the middle of a step (awaiting something that ignores
      // ctx.signal) returns only once that step settles, which may be never: after an abort its
      // return is not waited for (before, execute ignored its signal there and close() hung).
      const closing = Promise.resolve().then(() => it.return?.())
      if (this.signal.aborted) closing.catch(() => {})
      else await closing
      throw err
    }
  }

  /** Check values against the builder's dtypes: the stored column. */
  storeColumn(spec: BuilderSpec, column: string, dtype: TableDType, values: ArrayLike<unknown>, skip?: (i: number) => boolean): unknown[] {
    let i = 0
    const where = (): string => `builder ${quote(spec.name)} of table ${quote(this.req.table)}: row ${i}, column ${quote(column)}`
    if (!skip && Array.isArray(values)) {
      // Most values are stored as they are (strings, booleans, numbers): the array itself is the
      // stored column until a value's stored form differs, and only then is it copied.
      let out: unknown[] | undefined
      for (; i < values.length; i++) {
        const v: unknown = values[i]
        const s = storedValue(dtype, v, where)
        if (out) out[i] = s
        else if (s !== v) {
          out = values.slice(0, i)
          out[i] = s
        }
      }
      return out ?? values
    }
    const out = new Array<unknown>(values.length)
    for (; i < values.length; i++) {
      if (skip?.(i)) continue
      out[i] = storedValue(dtype, values[i], where)
    }
    return out
  }

  /**
   * A non-nullable numeric column checked straight into the typed array its Arrow vector wraps (no
   * intermediate array, no copy); undefined for other dtypes.
   */
  storeNumeric(spec: BuilderSpec, column: string, dtype: TableDType, values: ArrayLike<unknown>): Vector | undefined {
    const Typed = dtype.nullable ? undefined : NUMERIC[dtype.kind as keyof typeof NUMERIC]
    if (!Typed) return undefined
    let i = 0
    const where = (): string => `builder ${quote(spec.name)} of table ${quote(this.req.table)}: row ${i}, column ${quote(column)}`
    const out = new Typed(values.length)
    for (; i < values.length; i++) (out as Float64Array)[i] = storedValue(dtype, values[i], where) as number
    return makeVector(out as Float64Array) as Vector
  }

  declaredDType(spec: BuilderSpec, column: string): TableDType | undefined {
    // Own keys only: `dtypes` is a plain object, so a column named `constructor`, `toString` or
    // `__proto__` left out of it would otherwise find Object.prototype's member (a function or an
    // object) and fail as a bad dtype instead of being inferred.
    const d = Object.hasOwn(spec.dtypes, column) ? spec.dtypes[column] : undefined
    return d === undefined ? undefined : parseTableDType(d)
  }

  async runIndex(spec: IndexBuilderSpec): Promise<BuilderResult> {
    const p = await this.prepare(spec)
    const reused = this.reuseIndex(spec, p.fingerprint)
    if (reused) return this.result(spec, p.fingerprint, p.deps, 0, this.rowCount)
    if (this.reuseOnly) throw new MustRun()
    const fn = await this.callable(spec, p.source)
    const args = this.resolver(spec, await this.load(spec, p.ids)).at(undefined)
    const ctx = this.context(spec.name, undefined, undefined)
    this.signal.throwIfAborted()
    const out = await this.untilAborted(fn(args, ctx))
    let values: ArrayLike<unknown>[]
    if (spec.returnType === 'generator') {
      if (!isIterator(out)) this.fail(spec.name, 'a "generator" function must return an iterator (a function* or async function*)')
      const drained = spec.changedColumns.map(() => [] as unknown[])
      await this.drain(spec, out, drained, undefined, () => {})
      values = drained
    } else values = rowsOutput(out, spec.changedColumns, spec.name).values
    this.signal.throwIfAborted()
    let stored = spec.changedColumns.map((c, k) => {
      const dtype = this.declaredDType(spec, c) ?? inferTableDType(values[k]!)
      // A typed array of the column's own numeric type holds valid values by construction.
      const own = NUMERIC[dtype.kind as keyof typeof NUMERIC]
      return { dtype, stored: own !== undefined && values[k] instanceof own ? values[k]! : this.storeColumn(spec, c, dtype, values[k]!) }
    })
    const pkTypes = spec.primaryKey.map((c) => stored[spec.changedColumns.indexOf(c)]!.dtype)
    const n = stored[0]?.stored.length ?? 0
    const origin = this.req.origin
    // The common re-execution: the origin's keys, in its order. When the origin was made by this very
    // index builder (same fingerprint), its keys were checked unique then, and keepOld adds nothing.
    const sameKeys = origin !== undefined && origin.table.numRows === n && spec.primaryKey.every((c) => {
      const field = origin.table.schema.fields.find((f) => f.name === c)
      const dtype = stored[spec.changedColumns.indexOf(c)]!.dtype
      return field !== undefined && fieldDType(field)?.name === dtype.name && sameValues(stored[spec.changedColumns.indexOf(c)]!.stored, originValues(origin.table, c))
    })
    if (!(sameKeys && origin.fingerprints[spec.name] === p.fingerprint)) {
      const pk = spec.primaryKey.map((c) => stored[spec.changedColumns.indexOf(c)]!.stored)
      const keyOf = rowKeys(pk, pkTypes)
      // Keys in strictly increasing order (ids 0…n-1, sorted names) are unique: no Set needed.
      const seen = pk.length === 1 && increasing(pk[0]!) && !spec.keepOld ? undefined : new Set<unknown>()
      for (let i = 0; seen && i < n; i++) {
        const k = keyOf(i)
        if (seen.has(k)) this.fail(spec.name, `two rows have the primary key (${spec.primaryKey.join(', ')}) = ${String(k).slice(0, 80)}`)
        seen.add(k)
      }
      if (spec.keepOld && origin && seen) {
        // Old rows first, in the origin's order, then the new ones: the index grows.
        const names = origin.table.schema.fields.map((f) => f.name)
        for (const c of spec.changedColumns) if (!names.includes(c)) this.fail(spec.name, `keepOld: the origin instance ${quote(origin.instanceId)} has no column ${quote(c)}`)
        // The origin's values in this builder's dtypes before their keys are compared: an origin made
        // with other dtypes (i32 keys now i64) would otherwise hold keys that equal none of the new
        // ones (1 is not 1n), and a kept row would repeat a new row's key.
        const oldCols = spec.changedColumns.map((c, k) => {
          const dtype = stored[k]!.dtype
          return Array.from(columnStored(origin.table, c), (v, i) => storedValue(dtype, v, () => `builder ${quote(spec.name)} of table ${quote(this.req.table)}: keepOld: origin row ${i}, column ${quote(c)}`))
        })
        const oldPk = spec.primaryKey.map((c) => oldCols[spec.changedColumns.indexOf(c)]!)
        const keep: number[] = []
        const kept = new Map<unknown, number>()
        const oldKey = rowKeys(oldPk, pkTypes)
        for (let i = 0; i < origin.table.numRows; i++) {
          const k = oldKey(i)
          if (seen.has(k)) continue
          // Unique in the origin under its own primary key, but the key may have changed since
          // (fewer columns): two kept rows with one key would make an index with a repeated key.
          const first = kept.get(k)
          if (first !== undefined) this.fail(spec.name, `keepOld: origin rows ${first} and ${i} have the same primary key (${spec.primaryKey.join(', ')}) = ${String(k).slice(0, 80)}`)
          kept.set(k, i)
          keep.push(i)
        }
        if (keep.length > 0) {
          stored = stored.map((s, k) => ({ dtype: s.dtype, stored: [...keep.map((i) => oldCols[k]![i]), ...Array.from(s.stored)] }))
        }
      }
    }
    spec.changedColumns.forEach((c, k) => {
      const { dtype, stored: values } = stored[k]!
      // An index column equal to the origin's (same dtype, same bytes) is the origin's vector: the
      // storage finds it already stored, and nothing is encoded again.
      const field = sameKeys ? origin.table.schema.fields.find((f) => f.name === c) : undefined
      if (field && fieldDType(field)?.name === dtype.name) {
        const mine = storedToVector(dtype, values)
        const theirs = origin!.table.getChild(c)!
        this.self.set(c, new SelfColumn(dtype, { stored: values, vector: sameVector(mine, theirs) ? theirs : mine }))
      } else this.self.set(c, new SelfColumn(dtype, { stored: values }))
    })
    this.rowCount = stored[0]?.stored.length ?? 0
    if (sameKeys) {
      this.originRow = undefined
      this.originIdentity = true
    } else this.mapOrigin(spec)
    this.fingerprints.set(spec.name, p.fingerprint)
    this.req.onProgress?.({ builder: spec.name, done: this.rowCount, total: this.rowCount, reused: 0 })
    return this.result(spec, p.fingerprint, p.deps, this.rowCount, 0)
  }

  /**
   * An index builder unchanged from the origin's (same fingerprint: spec, module source,
   * dependencies, artifacts given; no `force`) is not run: its output is the origin's index, each
   * column the origin's vector. False when it must run.
   */
  reuseIndex(spec: IndexBuilderSpec, fingerprint: string): boolean {
    const origin = this.req.origin
    if (this.req.force || !origin || origin.fingerprints[spec.name] !== fingerprint) return false
    const fields = spec.changedColumns.map((c) => origin.table.schema.fields.find((f) => f.name === c))
    if (fields.some((f) => f === undefined || fieldDType(f) === undefined)) return false
    spec.changedColumns.forEach((c, k) => this.self.set(c, new SelfColumn(fieldDType(fields[k]!)!, { vector: origin.table.getChild(c)! })))
    this.rowCount = origin.table.numRows
    this.originRow = undefined
    this.originIdentity = true
    this.fingerprints.set(spec.name, fingerprint)
    this.req.onProgress?.({ builder: spec.name, done: this.rowCount, total: this.rowCount, reused: this.rowCount })
    return true
  }

  /** Match each row to the origin's row with the same primary key. */
  mapOrigin(spec: IndexBuilderSpec): void {
    const origin = this.req.origin
    this.originRow = undefined
    this.originIdentity = false
    if (!origin) return
    const names = origin.table.schema.fields.map((f) => f.name)
    if (!spec.primaryKey.every((c) => names.includes(c))) return
    const oldPk = spec.primaryKey.map((c) => columnStored(origin.table, c))
    const pkTypes = spec.primaryKey.map((c) => this.self.get(c)!.dtype)
    const oldTypes = spec.primaryKey.map((c) => fieldDType(origin.table.schema.fields.find((f) => f.name === c)!))
    // Keys compare only between columns of the same dtypes: otherwise no row matches.
    if (oldTypes.some((t, k) => t?.name !== pkTypes[k]!.name)) return
    const newPk = spec.primaryKey.map((c) => this.self.get(c)!.stored)
    // The common re-execution: the same keys in the same order. Checked value by value first, no Map built.
    if (this.rowCount === origin.table.numRows && newPk.every((col, k) => sameValues(col, oldPk[k]!))) {
      this.originIdentity = true
      return
    }
    const map = new Int32Array(this.rowCount)
    const at = new Map<unknown, number>()
    const oldKey = rowKeys(oldPk, pkTypes)
    for (let i = 0; i < origin.table.numRows; i++) at.set(oldKey(i), i)
    const keyOf = rowKeys(newPk, pkTypes)
    let identity = this.rowCount === origin.table.numRows
    for (let i = 0; i < this.rowCount; i++) {
      map[i] = at.get(keyOf(i)) ?? -1
      identity &&= map[i] === i
    }
    this.originRow = map
    this.originIdentity = identity
  }

  async runColumn(spec: ColumnBuilderSpec): Promise<BuilderResult> {
    const p = await this.prepare(spec)
    const total = this.rowCount
    const origin = this.req.origin
    const originNames = origin?.table.schema.fields.map((f) => f.name) ?? []
    const reusable = !this.req.force && origin !== undefined && (this.originIdentity || this.originRow !== undefined) &&
      origin.fingerprints[spec.name] === p.fingerprint && spec.changedColumns.every((c) => originNames.includes(c))
    const identity = this.originIdentity
    const reusedAt = (i: number): boolean => reusable && (identity || this.originRow![i]! >= 0)
    let pending: Int32Array
    // Unchanged, and the origin's rows in its order: every row is reused, no row is looked at.
    if (reusable && identity) pending = new Int32Array(0)
    else if (reusable) {
      const list: number[] = []
      for (let i = 0; i < total; i++) if (!reusedAt(i)) list.push(i)
      pending = Int32Array.from(list)
    } else {
      pending = new Int32Array(total)
      for (let i = 0; i < total; i++) pending[i] = i
    }
    const reused = total - pending.length
    if (this.reuseOnly && pending.length > 0) throw new MustRun()
    const progress = (computed: number): void => this.req.onProgress?.({ builder: spec.name, done: reused + computed, total, reused })
    progress(0)

    const cols = spec.changedColumns
    // One array per column for what the builder returns (none when every row is reused).
    const values = pending.length > 0 ? cols.map(() => new Array<unknown>(total)) : []
    // What the builder returned, per column (`values`, or a `rows` result's own arrays).
    let outputs: ArrayLike<unknown>[] = values
    if (pending.length > 0) {
      const fn = await this.callable(spec, p.source)
      const resolver = this.resolver(spec, await this.load(spec, p.ids))
      if (spec.returnType === 'row-wise') {
        const run = { table: this.req.table, instanceId: this.req.instanceId, processId: this.req.processId, artifactFolder: this.req.artifactFolder, signal: this.signal, rows: total, progressIntervalMs: this.req.progressIntervalMs }
        await runRowWise(run, spec, fn, resolver, pending, values, progress)
      }
      else {
        this.signal.throwIfAborted()
        const out = await this.untilAborted(fn(resolver.at(undefined), this.context(spec.name, undefined, total)))
        if (spec.returnType === 'rows') {
          const r = rowsOutput(out, cols, spec.name)
          if (r.count !== total) this.fail(spec.name, `returned ${r.count} rows; the index has ${total}`)
          outputs = r.values
          progress(pending.length)
        } else {
          if (!isIterator(out)) this.fail(spec.name, 'a "generator" function must return an iterator (a function* or async function*)')
          const n = await this.drain(spec, out, values, total, (k) => progress(Math.min(k, pending.length)))
          if (n !== total) this.fail(spec.name, `its generator yielded ${n} rows; the index has ${total}`)
        }
        this.signal.throwIfAborted()
      }
    }

    // No call made (every row reused, or no rows): nothing was returned for any row.
    const outputOf = (k: number): ArrayLike<unknown> => outputs[k] ?? new Array<unknown>(total)
    cols.forEach((c, k) => {
      const originField = reused > 0 ? origin!.table.schema.fields.find((f) => f.name === c) : undefined
      if (reused === total && this.originIdentity && originField) {
        // Every row reused, in the origin's order: the origin's vector is the column.
        this.self.set(c, new SelfColumn(this.declaredDType(spec, c) ?? fieldDType(originField) ?? inferTableDType(vectorStored(origin!.table.getChild(c)!)), { vector: origin!.table.getChild(c)! }))
        return
      }
      const dtype = this.declaredDType(spec, c) ?? (originField && fieldDType(originField)) ?? inferTableDType(Array.from(pending, (i) => outputs[k]![i]))
      const vector = reused === 0 ? this.storeNumeric(spec, c, dtype, outputOf(k)) : undefined
      if (vector) {
        this.self.set(c, new SelfColumn(dtype, { vector }))
        return
      }
      const stored = this.storeColumn(spec, c, dtype, outputOf(k), reusedAt)
      if (reused > 0) {
        const old = columnStored(origin!.table, c)
        for (let i = 0; i < total; i++) if (reusedAt(i)) stored[i] = old[identity ? i : this.originRow![i]!]
      }
      this.self.set(c, new SelfColumn(dtype, { stored }))
    })
    this.fingerprints.set(spec.name, p.fingerprint)
    return this.result(spec, p.fingerprint, p.deps, pending.length, reused)
  }

  result(spec: BuilderSpec, fingerprint: string, deps: InstanceRef[], computed: number, reused: number): BuilderResult {
    const columns = spec.changedColumns.map((c) => {
      const s = this.self.get(c)!
      return { name: c, dtype: s.dtype, vector: s.vector }
    })
    return { builder: spec.name, kind: spec.kind, fingerprint, columns: columnsToTable(columns, this.rowCount), dependencies: deps, computed, reused }
  }
}

/** True when a builder's arguments use the artifact-folder keyword (alone or inside a text). */
function usesArtifactFolder(spec: BuilderSpec): boolean {
  return argumentStrings(spec.arguments).some((s) => KEYWORDS.artifactFolder.some((k) => s.includes(k)))
}

/**
 * Compute an instance: order the builders (planBuilders), run each (index first), reuse the
 * origin's rows where a builder is unchanged, hand each builder's result to `onBuilderDone`, and
 * return every column as one Arrow table with the fingerprints to store.
 */
export async function computeInstance(req: ComputeRequest): Promise<ComputeResult> {
  const plan = planBuilders(req.table, req.builders)
  req.signal?.throwIfAborted()
  return new Execution(req, plan).run()
}

/**
 * The same computation when every builder is unchanged from the origin (its fingerprint equal,
 * every row reused): then the result, made of the origin's vectors. Undefined as soon as a builder
 * would have to run: no builder function is called and no code module is loaded (so a caller may
 * try it before taking any lock, and execute for real when it gives undefined).
 */
export async function reuseInstance(req: ComputeRequest): Promise<ComputeResult | undefined> {
  if (req.force || !req.origin || (req.completed?.length ?? 0) > 0) return undefined
  const execution = new Execution(req, planBuilders(req.table, req.builders))
  execution.reuseOnly = true
  try {
    return await execution.run()
  } catch (err) {
    if (err instanceof MustRun) return undefined
    throw err
  }
}
