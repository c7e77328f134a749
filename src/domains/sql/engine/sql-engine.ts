import { tableFromIPC } from 'apache-arrow'
import { InvalidArgumentError, StoppedError, type VaultError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import { checkSqlRequest } from '../shared/sql-params.js'
import type { SqlRelationInfo, SqlRequest, SqlResult } from '../shared/sql-types.js'
import { lastStart, type DuckDbRuntime, type StartTimes } from './duckdb-runtime.js'
import { CACHE_FORMAT, openCached, writeRecord, type CacheOutcome, type CommitPosition } from './relation-cache.js'
import { writeSnapshot } from './relation-snapshot.js'
import { RelationStore } from './relation-store.js'
import { relationProviders } from './relations/index.js'
import { paramsRow, paramVariable } from './sql-binding.js'
import { ownQueryText, readOnlyQuery } from './sql-statement.js'
import { castQuery, enumColumns, typesQuery, withoutEnums } from './result-enums.js'
import { stepsNow } from './start-steps.js'

/** The one-row table a query's parameters arrive in (dropped after the query). */
const PARAMS_TABLE = '"_labvault".params'

/** A query waiting or running: `cancel(id)` sets `cancelled`. */
interface Running {
  cancelled: boolean
}

/**
 * SQL over the vault: DuckDB (loaded on the first query) holding the vault's relations, refreshed
 * before each query from what changed. Queries run one at a time (one DuckDB connection); each is
 * read-only and may be interrupted by `cancel` or its timeout.
 */
export class SqlEngine {
  private started: Promise<{ runtime: DuckDbRuntime; store: RelationStore }> | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private readonly running = new Map<string, Running>()
  private unsubscribe: (() => void) | undefined
  private closed = false
  private storeNow: RelationStore | undefined
  private runtimeNow: DuckDbRuntime | undefined
  /** How long DuckDB took to start here, cache file included (ms; for the bench). */
  private startMs: number | undefined
  /** Relations refreshed since the snapshot file was read or written, made at this position (Node). */
  private unsaved: CommitPosition | undefined
  /** The position the snapshot file was read at (Node). */
  private savedAt: CommitPosition | undefined
  /** DuckDB runs on the cache file (this engine holds it). */
  private cached = false
  /** What the start made of the cache file, and why when it could not use it. */
  private cacheOutcome: { outcome: CacheOutcome; why?: string } | undefined

  constructor(private readonly services: EngineServices) {}

  private start() {
    return (this.started ??= (async () => {
      const began = performance.now()
      const position = this.services.commitPosition()
      const { runtime, restored, cached, outcome, why } = await openCached({ assetBase: this.services.assetBase }, this.services.derivedFile, position)
      this.cached = cached
      this.cacheOutcome = why === undefined ? { outcome } : { outcome, why }
      if (restored?.fresh) this.savedAt = position
      if (this.closed) {
        // The engine began to close while DuckDB was starting.
        runtime.close()
        if (cached) await this.services.derivedFile?.release().catch(() => {})
        throw new StoppedError('sql: the vault is closing')
      }
      try {
        const store = new RelationStore(runtime, relationProviders, restored)
        // Locked before any user text runs: file access and settings stay off for good.
        runtime.lockDown()
        this.unsubscribe = this.services.subscribe((change) => store.noteChange(change))
        this.storeNow = store
        this.runtimeNow = runtime
        this.startMs = performance.now() - began
        return { runtime, store }
      } catch (err) {
        runtime.close()
        throw err
      }
    })().catch((err) => {
      this.started = undefined
      throw err
    }))
  }

  /** For a query stopped while it waited: what DuckDB's start was doing, if it was starting. */
  private startingNote(): string {
    return this.started && !this.runtimeNow ? `, while DuckDB was starting (${stepsNow() || 'setting up'})` : ''
  }

  /** Run one query; resolves to its rows as an Arrow IPC stream. */
  async query(ctx: CallContext, request: SqlRequest): Promise<SqlResult> {
    if (!request || typeof request !== 'object') throw new InvalidArgumentError('sql: a query request must be an object')
    checkSqlRequest(request.text, request.params, request.timeoutMs)
    if (typeof request.id !== 'string' || request.id === '') throw new InvalidArgumentError('sql: a query needs an id')
    const text = readOnlyQuery(request.text)
    const params = request.params ?? []
    // Typed before anything runs: a list that mixes types is refused here.
    const bound = params.length > 0 ? paramsRow(params) : undefined
    const entry: Running = { cancelled: false }
    this.running.set(request.id, entry)
    const deadline = request.timeoutMs !== undefined ? performance.now() + request.timeoutMs : Infinity
    const stopped = (): VaultError | undefined => {
      if (entry.cancelled) return new StoppedError('sql: the query was cancelled')
      if (performance.now() > deadline) return new StoppedError(`sql: the query was stopped after its timeoutMs (${request.timeoutMs} ms)`)
      if (this.closed) return new StoppedError('sql: the vault is closing')
      return undefined
    }
    // A result is not returned past the query's timeoutMs or cancel: the last look, before returning.
    const finished = (result: SqlResult): SqlResult => {
      const stop = stopped()
      if (stop) throw stop
      return result
    }
    const run = async (): Promise<SqlResult> => {
      const early = stopped()
      if (early) throw early
      const starting = this.runtimeNow === undefined
      // (Once DuckDB runs, its start is a settled promise: no wait to watch.)
      const { runtime, store } = starting ? await untilStopped(this.start(), stopped, () => this.startingNote()) : await this.start()
      // Stopped while it started (a start that held the thread, as on Node, delays the checks until it ends).
      const late = starting ? stopped() : undefined
      if (late) throw new StoppedError(`${late.message}, while DuckDB was starting`, { cause: late })
      await this.refreshRelations(ctx, runtime, store)
      // Exactly one statement, by DuckDB's parser, before any of it runs: both ways of running it
      // below would run every statement of a text (the subquery wrapping alone is no guard).
      runtime.checkOneStatement(text, ownQueryText(request.text))
      const control = { stopped }
      // The values go in as data (sql-binding.ts): an Arrow row, copied into variables that
      // EXECUTE binds to the prepared text's placeholders. `then` gets the result's schema.
      const variables = bound ? bound.reads.map((_, i) => paramVariable(i)) : []
      const runText = async <T>(body: string, then: (header: Uint8Array) => Promise<T>): Promise<T> => {
        if (!bound) return then(await runtime.start(body, control))
        runtime.exec(`PREPARE labvault_query AS ${body}`)
        try {
          return await then(await runtime.start(`EXECUTE labvault_query(${variables.map((v, i) => `getvariable('${v}')${bound.casts[i] ? `::${bound.casts[i]}` : ''}`).join(', ')})`, control))
        } finally {
          runtime.exec('DEALLOCATE labvault_query')
        }
      }
      const fetch = (header: Uint8Array) => runtime.fetch(header, control)
      const answer = async (): Promise<Uint8Array> => {
        let enums: ReturnType<typeof enumColumns>
        const ipc = await runText(text, async (header) => ((enums = enumColumns(header)) ? undefined : fetch(header)))
        if (ipc) return ipc
        // ENUM columns: run again with them cast to VARCHAR (result-enums.ts). One inside a list or
        // struct needs its whole type, which DuckDB names (a query that binds, giving no rows).
        const { names, kinds } = enums!
        const casts: (string | undefined)[] = kinds.map((k) => (k === 'top' ? 'VARCHAR' : undefined))
        const nested = kinds.flatMap((k, i) => (k === 'nested' ? [i] : []))
        if (nested.length > 0) {
          const types = tableFromIPC(await runText(typesQuery(text, nested), fetch)).get(0)
          nested.forEach((p, i) => (casts[p] = withoutEnums(String(types?.[`t${i}`]))))
        }
        return runText(castQuery(text, names, casts), fetch)
      }
      if (!bound) return finished({ ipc: await answer() })
      runtime.exec(`DROP TABLE IF EXISTS ${PARAMS_TABLE}`)
      runtime.insertIpc(bound.ipc, '_labvault', 'params', true)
      try {
        runtime.exec(bound.reads.map((read, i) => `SET VARIABLE ${variables[i]} = ${read === 'NULL' ? read : `(SELECT ${read} FROM ${PARAMS_TABLE})`}`).join('; '))
        return finished({ ipc: await answer() })
      } finally {
        runtime.exec(`DROP TABLE IF EXISTS ${PARAMS_TABLE}; ${variables.map((v) => `RESET VARIABLE ${v}`).join('; ')}`)
      }
    }
    // A query waits for the earlier ones, but its signal or timeoutMs stops the wait: it leaves the
    // queue then (the queries after it still wait for those before it).
    const before = this.queue
    const result = untilStopped(before, stopped, () => this.startingNote()).then(run)
    this.queue = Promise.allSettled([before, result])
    try {
      return await result
    } finally {
      this.running.delete(request.id)
    }
  }

  /** Other processes' commits first (shared mode), then the relations that changed; a cache file records them. */
  private async refreshRelations(ctx: CallContext, runtime: DuckDbRuntime, store: RelationStore): Promise<void> {
    await this.services.refresh()
    if (!this.cached) {
      await store.sync(ctx)
      return
    }
    // On a cache file, the relations and the record that describes them commit together: a crash
    // (a closed tab) between them must not leave appended rows the record does not know of.
    const position = this.services.commitPosition()
    const ownFile = this.services.derivedFile?.writeSync !== undefined
    try {
      // Inside the try: a BEGIN that fails (a transaction left open) is rolled back below too,
      // instead of leaving every later query failing until the vault closes.
      runtime.exec('BEGIN TRANSACTION')
      const refreshed = await store.sync(ctx)
      // DuckDB's own file holds the record beside the relations; labvault's own file (Node) is
      // written whole when the engine closes, with where the vault stood.
      if (refreshed > 0 && !ownFile) writeRecord(runtime, position, store.snapshot())
      if (refreshed > 0) this.unsaved = position
      runtime.exec('COMMIT')
    } catch (err) {
      try {
        runtime.exec('ROLLBACK')
      } catch {
        // No transaction to roll back (the BEGIN itself failed): the first error is the one to report.
      } finally {
        // What the providers remember no longer matches DuckDB: everything is derived again.
        store.forgetAll()
      }
      throw err
    }
  }

  /** Interrupt the query of this id (waiting or running); true when there was one. */
  cancel(_ctx: CallContext, id: string): boolean {
    const entry = this.running.get(id)
    if (entry) entry.cancelled = true
    return entry !== undefined
  }

  /** The relations a query can read, with their columns (refreshed first). */
  async relations(ctx: CallContext): Promise<SqlRelationInfo[]> {
    const run = async () => {
      const { runtime, store } = await this.start()
      await this.refreshRelations(ctx, runtime, store)
      return store.relations().map((r) => ({ schema: r.schema, name: r.name, columns: r.columns.map((c) => ({ name: c.name, type: c.type, nullable: true })) }))
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => {})
    return result
  }

  /** The engine closes: running queries stop at their next step, then DuckDB closes (a cache file checkpointed and released). */
  closing(): void {
    this.closed = true
    this.unsubscribe?.()
    void this.queue.then(() => this.shutDown())
    // Nothing running: close now, so that the file is free by the time the vault's close resolves.
    if (this.running.size === 0) this.shutDown()
  }

  private shutDown(): void {
    const started = this.started
    this.started = undefined
    if (!started || !this.runtimeNow) return
    const runtime = this.runtimeNow
    this.runtimeNow = undefined
    this.saveSnapshot(runtime)
    runtime.close()
    if (this.cached) void this.services.derivedFile?.release().catch(() => {})
  }

  /** Node: write the relations and their record to the cache file, when they changed and were made from committed data. */
  private saveSnapshot(runtime: DuckDbRuntime): void {
    const file = this.services.derivedFile
    if (!this.cached || !file?.writeSync || !this.storeNow) return
    const snapshot = this.storeNow.snapshot()
    if (!snapshot.clean) return
    // Commits since the last refresh that touched no relation's tables (the engine's own
    // bookkeeping, other domains' tables) leave the relations current: they stand for the vault
    // as it is now, and a reopen finds them fresh.
    const now = this.services.commitPosition()
    const current = this.storeNow.current
    if (!this.unsaved && !(current && this.savedAt && now.seq > this.savedAt.seq)) return
    const position = current ? now : this.unsaved!
    try {
      writeSnapshot(runtime, file, position, CACHE_FORMAT, snapshot)
      this.unsaved = undefined
    } catch {
      // Derived data: the next open derives what the file lacks.
    }
  }

  /**
   * What the last refresh of the relations did (providers refreshed, rows loaded, milliseconds),
   * and what the start made of the cache file: for tests and the bench, which tell an incremental
   * refresh from a full reload by it, and a reload's cause.
   */
  refreshStats(_ctx: CallContext): { providers: number; rows: number; ms: number; cache?: { outcome: CacheOutcome; why?: string }; start?: StartTimes & { total?: number } } | undefined {
    return this.storeNow ? { ...this.storeNow.lastRefresh, cache: this.cacheOutcome, start: lastStart && { ...lastStart, total: this.startMs } } : undefined
  }
}

/** How often a query waiting for its turn or for DuckDB's start looks at its signal and timeoutMs (ms). */
const STOP_CHECK_MS = 25

/**
 * `work`, unless `stopped()` gives a reason first (checked every {@link STOP_CHECK_MS}): then that
 * error, its message completed by `where()` (when it says something). `work` goes on (a start
 * another query will use).
 */
function untilStopped<T>(work: Promise<T>, stopped: () => VaultError | undefined, where?: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const check = () => {
      const stop = stopped()
      if (!stop) {
        timer = setTimeout(check, STOP_CHECK_MS)
        return
      }
      const note = where?.()
      reject(note ? new StoppedError(`${stop.message}${note}`, { cause: stop }) : stop)
    }
    timer = setTimeout(check, STOP_CHECK_MS)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}
