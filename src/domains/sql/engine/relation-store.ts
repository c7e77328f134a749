import type { CallContext } from '../../../engine/context.js'
import { VaultError } from '../../../errors/errors.js'
import type { EngineChange } from '../../changes/shared/changes.js'
import type { DuckDbRuntime } from './duckdb-runtime.js'
import { createTableSql, ident, rowsToIpc } from './arrow-rows.js'
import { sqlLiteral } from './sql-statement.js'
import { type ColumnValues, type RelationDef, type RelationProvider, type RelationSink } from './relations/relation.js'
import { foldCase } from '../shared/sql-names.js'

/** Relations restored from DuckDB's database file: each provider's state and relations, by name. */
export interface RelationSnapshot {
  states: Record<string, unknown>
  made: Record<string, RelationDef[]>
  /** The vault has not changed since they were made: no refresh is needed. */
  fresh: boolean
}

/** A relation's name as DuckDB compares names. */
function relationKey(def: RelationDef): string {
  return foldCase(`${def.schema}.${def.name}`)
}

/** The DuckDB schemas relations live in (besides `main`). */
export const RELATION_SCHEMAS = ['items', 'col', 'tables', 'instances'] as const

/**
 * The vault's relations in DuckDB, kept fresh by change counters: a commit's change event marks
 * stale the providers whose SQLite tables it touched, and a query refreshes only those. A change
 * the engine saw without an event (an uncommitted write, a rollback) makes every provider stale:
 * the relations then follow the database as it is.
 */
export class RelationStore {
  private readonly stale = new Set<RelationProvider>()
  private readonly states = new Map<RelationProvider, unknown>()
  private readonly made = new Map<RelationProvider, RelationDef[]>()
  private readonly byTable = new Map<string, RelationProvider[]>()
  private counterAtSync = -1
  private eventSinceSync = false
  /**
   * The provider whose sync is under way, and what happened to its tables meanwhile (its sync
   * awaits blob reads, and writes are not held back): the commits, and whether it was made to start
   * over. Its tables may have been read before those commits, so it stays stale (see sync).
   */
  private syncing: { provider: RelationProvider; changes: EngineChange[]; forgotten: boolean } | undefined
  /** Rows loaded by the last refresh (the bench and tests read it to tell incremental from full). */
  lastRefresh = { providers: 0, rows: 0, ms: 0 }

  /** Relations DuckDB could not build, as error views (by relationKey): the message they raise. */
  private readonly failed = new Map<string, string>()

  /** Set by the sink when the provider being synced could not read some of the vault's data. */
  private unreadableNow = false

  /** False when the last refresh read changes not yet committed: its relations must not outlive this engine. */
  private clean = true

  constructor(
    private readonly runtime: DuckDbRuntime,
    private readonly providers: readonly RelationProvider[],
    restored?: RelationSnapshot,
  ) {
    for (const p of providers) {
      this.stale.add(p)
      for (const t of p.tables) this.byTable.set(t, [...(this.byTable.get(t) ?? []), p])
      // Relations cached in DuckDB's file: their providers continue from where they stood.
      // (An append-only or following provider's state cannot be trusted behind the vault: what
      // changed since is unknown, rows may have been rewritten. It reloads.)
      if (restored && Object.hasOwn(restored.states, p.name) && (restored.fresh || !(p.appendsOnly || p.follow))) {
        this.states.set(p, restored.states[p.name] ?? undefined)
        this.made.set(p, restored.made[p.name] ?? [])
        if (restored.fresh) this.stale.delete(p)
      }
    }
    // One transaction (on a cache file, one WAL write instead of one per schema). `_labvault`
    // holds labvault's own tables (a cache file's record, a query's parameters): not a relation.
    runtime.exec(`BEGIN TRANSACTION; ${[...RELATION_SCHEMAS, '_labvault'].map((s) => `CREATE SCHEMA IF NOT EXISTS ${ident(s)}`).join('; ')}; COMMIT`)
  }

  /** What a cache file keeps of the relations: each provider's state and relations. */
  snapshot(): { states: Record<string, unknown>; made: Record<string, RelationDef[]>; clean: boolean } {
    const states: Record<string, unknown> = {}
    const made: Record<string, RelationDef[]> = {}
    for (const p of this.providers) {
      if (this.stale.has(p) || !this.states.has(p)) continue
      // A provider with a relation that failed is left out: a reopen derives its relations again.
      if ((this.made.get(p) ?? []).some((d) => this.failed.has(relationKey(d)))) continue
      // null, not undefined: JSON keeps it (a provider with no state is still up to date).
      states[p.name] = this.states.get(p) ?? null
      made[p.name] = this.made.get(p) ?? []
    }
    return { states, made, clean: this.clean }
  }

  /** A commit (this engine's or another process's): its tables' providers are stale. */
  noteChange(change: EngineChange): void {
    this.eventSinceSync = true
    if (change.domains.includes('*')) {
      for (const p of this.providers) this.forget(p)
      return
    }
    const touched = new Set(change.tables.flatMap((t) => this.byTable.get(t) ?? []))
    for (const p of touched) {
      this.stale.add(p)
      if (this.syncing?.provider === p) this.syncing.changes.push(change)
      // A following provider adds what the commit says changed to its state (or starts over).
      if (p.follow) {
        const next = p.follow(change, this.states.get(p))
        if (next === undefined) this.states.delete(p)
        else this.states.set(p, next)
      }
    }
    // Rows rewritten (or not known not to be): append-only providers start over.
    const rewritten = change.rewritten ?? change.tables
    for (const t of rewritten) for (const p of this.byTable.get(t) ?? []) if (p.appendsOnly) this.forget(p)
  }

  /** Start over for every provider (their relations were rolled back). */
  forgetAll(): void {
    for (const p of this.providers) this.forget(p)
  }

  /** Start over for one provider: its next sync loads everything. */
  private forget(p: RelationProvider): void {
    this.stale.add(p)
    this.states.delete(p)
    if (this.syncing?.provider === p) this.syncing.forgotten = true
  }

  /** Refresh the stale relations; resolves to how many providers refreshed. */
  async sync(ctx: CallContext): Promise<number> {
    const counter = ctx.db.changeCounter
    if (counter !== this.counterAtSync && !this.eventSinceSync && this.counterAtSync >= 0) {
      for (const p of this.providers) this.forget(p)
      this.clean = false
    } else this.clean = true
    // From here, commits are the next refresh's: their events say so (those made while a provider's
    // own sync awaits leave it stale, below), and a change without one moves the counter past this.
    this.counterAtSync = counter
    this.eventSinceSync = false
    const started = performance.now()
    let rows = 0
    let providers = 0
    const sink = this.sink((n) => (rows += n))
    for (const p of this.providers) {
      if (!this.stale.has(p)) continue
      providers++
      this.unreadableNow = false
      // A following provider whose relation failed in DuckDB replaces it whole (its rows are not there to follow).
      if (p.follow && (this.made.get(p) ?? []).some((d) => this.failed.has(relationKey(d)))) this.states.delete(p)
      const during = (this.syncing = { provider: p, changes: [] as EngineChange[], forgotten: false })
      try {
        const { relations, state } = await p.sync(ctx, sink, this.states.get(p))
        // Compared as DuckDB compares names: when list `Runs` is deleted and `runs` takes its
        // relation, `DROP TABLE items."Runs"` would drop the new `items.runs`.
        const keep = new Set(relations.map((r) => foldCase(`${r.schema}.${r.name}`)))
        for (const old of this.made.get(p) ?? []) {
          if (!keep.has(foldCase(`${old.schema}.${old.name}`))) this.drop(old)
        }
        this.made.set(p, relations)
        // Data it could not read (a damaged blob, a host that did not answer): it runs again, from
        // scratch, before the next query, so a relation fails only while its data cannot be read.
        // Made to start over while it ran (a rewrite of an append-only provider's rows): it does.
        if (this.unreadableNow || during.forgotten) this.forget(p)
        else if (during.changes.length === 0) {
          this.states.set(p, state)
          this.stale.delete(p)
        } else {
          // Commits to its tables while its sync awaited may be missing from what it read: it stays
          // stale, with the state it reached (an append-only provider then loads the rows after it),
          // to which a following provider adds what those commits changed.
          let next: unknown = state
          for (const change of during.changes) next = p.follow && next !== undefined ? p.follow(change, next) : next
          if (p.follow && next === undefined) this.states.delete(p)
          else this.states.set(p, next)
        }
      } catch (err) {
        this.forget(p)
        throw err
      } finally {
        this.syncing = undefined
      }
    }
    if (providers > 0) this.lastRefresh = { providers, rows, ms: performance.now() - started }
    return providers
  }

  /** No provider is stale: every commit since the last refresh left the relations as they are. */
  get current(): boolean {
    return this.stale.size === 0
  }

  /** Every relation the providers made, for `relations()`. */
  relations(): RelationDef[] {
    return this.providers.flatMap((p) => this.made.get(p) ?? [])
  }

  private sink(count: (n: number) => void): RelationSink {
    const runtime = this.runtime
    return {
      replace: (def: RelationDef, rows: ColumnValues, n: number) => {
        this.build(def, () => {
          runtime.exec(createTableSql(def))
          if (n > 0) runtime.insertIpc(rowsToIpc(def, rows), def.schema, def.name, false)
        })
        count(n)
      },
      append: (def: RelationDef, rows: ColumnValues, n: number) => {
        // A failed relation stays failed until its provider replaces it.
        if (this.failed.has(relationKey(def))) return
        this.build(def, () => {
          if (n > 0) runtime.insertIpc(rowsToIpc(def, rows), def.schema, def.name, false)
        })
        count(n)
      },
      remove: (def: RelationDef, keys: ColumnValues, n: number) => {
        if (this.failed.has(relationKey(def))) return false
        if (n === 0) return true
        // The keys go in as a table of their own, joined: one statement, whatever their number.
        const columns = def.columns.filter((c) => Object.hasOwn(keys, c.name))
        const removed: RelationDef = { schema: '_labvault', name: 'removed_rows', columns }
        runtime.exec(createTableSql(removed))
        try {
          runtime.insertIpc(rowsToIpc(removed, keys), removed.schema, removed.name, false)
          const match = columns.map((c) => `t.${ident(c.name)} IS NOT DISTINCT FROM r.${ident(c.name)}`).join(' AND ')
          runtime.exec(`DELETE FROM ${ident(def.schema)}.${ident(def.name)} AS t USING ${ident(removed.schema)}.${ident(removed.name)} AS r WHERE ${match}`)
        } finally {
          runtime.exec(`DROP TABLE IF EXISTS ${ident(removed.schema)}.${ident(removed.name)}`)
        }
        return true
      },
      unreadable: (def: RelationDef, err: unknown) => {
        this.fail(def, err)
        this.unreadableNow = true
      },
    }
  }

  /**
   * Write one relation. When DuckDB refuses it (a name or value it cannot hold), that relation
   * alone fails: it becomes a view that raises an error naming it, so a query reading it says
   * which relation and why, and queries that do not read it run (before, the error ended the
   * refresh, and every query failed until the data changed).
   */
  private build(def: RelationDef, write: () => void): void {
    const key = relationKey(def)
    try {
      // The error view of an earlier failure (or one a cache file kept) is in the way of a table.
      if (this.failed.delete(key)) this.dropQuietly(def)
      write()
    } catch (err) {
      if (/is of type View/.test((err as Error).message)) {
        this.dropQuietly(def)
        try {
          write()
          return
        } catch (again) {
          this.fail(def, again)
          return
        }
      }
      this.fail(def, err)
    }
  }

  /** Replace a relation DuckDB could not build with a view that raises an error naming it. */
  private fail(def: RelationDef, err: unknown): void {
    // A VaultError's class leads the cause: duckDbError gives the query's error that class.
    const cause = `${VaultError.isVaultError(err) ? `${err.name}: ` : ''}${((err as Error)?.message ?? String(err)).replace(/^sql: /, '').split('\n')[0]}`
    const message = `sql: the relation ${def.schema === 'main' ? '' : `${def.schema}.`}${ident(def.name)} could not be made from the vault's data (${cause}); queries that do not read it are not affected`
    this.dropQuietly(def)
    const name = `${ident(def.schema)}.${ident(def.name)}`
    // With the relation's own columns, so `SELECT key FROM kv` raises this message too (not a
    // Binder Error naming the view's column); the filter raises it as soon as a row is read.
    const columns = def.columns.map((c) => `NULL::${c.type} AS ${ident(c.name)}`).join(', ')
    try {
      this.runtime.exec(`CREATE OR REPLACE VIEW ${name} AS SELECT ${columns || '1 AS error'} FROM (SELECT 1) WHERE error(${sqlLiteral(message)}) IS NULL`)
    } catch {
      try {
        // Columns DuckDB cannot hold (what may have failed the relation): one column, as before.
        this.runtime.exec(`CREATE OR REPLACE VIEW ${name} AS SELECT error(${sqlLiteral(message)}) AS error`)
      } catch {
        // Not even a view: the refresh fails as it did before, with the first error.
        throw err
      }
    }
    this.failed.set(relationKey(def), message)
  }

  /** Drop a relation the providers no longer make (a table, or the view of a failed one). */
  private drop(def: RelationDef): void {
    this.failed.delete(relationKey(def))
    this.dropQuietly(def)
  }

  /** Drop whatever holds the relation's name, table or view. */
  private dropQuietly(def: RelationDef): void {
    const name = `${ident(def.schema)}.${ident(def.name)}`
    for (const kind of ['TABLE', 'VIEW']) {
      try {
        this.runtime.exec(`DROP ${kind} IF EXISTS ${name}`)
      } catch {
        // The other kind holds the name: dropped by the other statement.
      }
    }
  }
}
