import type { CallContext } from '../../../engine/context.js'
import type { ChangeEvent } from '../../changes/shared/changes.js'
import type { DuckDbRuntime } from './duckdb-runtime.js'
import { createTableSql, ident, rowsToIpc } from './arrow-rows.js'
import type { ColumnValues, RelationDef, RelationProvider, RelationSink } from './relations/relation.js'

/** Relations restored from DuckDB's database file: each provider's state and relations, by name. */
export interface RelationSnapshot {
  states: Record<string, unknown>
  made: Record<string, RelationDef[]>
  /** The vault has not changed since they were made: no refresh is needed. */
  fresh: boolean
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
  /** Rows loaded by the last refresh (the bench and tests read it to tell incremental from full). */
  lastRefresh = { providers: 0, rows: 0, ms: 0 }

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
      // (An append-only provider's state cannot be trusted behind the vault: what changed since
      // is unknown, rows may have been rewritten. It reloads.)
      if (restored && Object.hasOwn(restored.states, p.name) && (restored.fresh || !p.appendsOnly)) {
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
      // null, not undefined: JSON keeps it (a provider with no state is still up to date).
      states[p.name] = this.states.get(p) ?? null
      made[p.name] = this.made.get(p) ?? []
    }
    return { states, made, clean: this.clean }
  }

  /** A commit (this engine's or another process's): its tables' providers are stale. */
  noteChange(change: ChangeEvent): void {
    this.eventSinceSync = true
    if (change.domains.includes('*')) {
      for (const p of this.providers) this.forget(p)
      return
    }
    for (const t of change.tables) for (const p of this.byTable.get(t) ?? []) this.stale.add(p)
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
  }

  /** Refresh the stale relations; resolves to how many providers refreshed. */
  async sync(ctx: CallContext): Promise<number> {
    const counter = ctx.db.changeCounter
    if (counter !== this.counterAtSync && !this.eventSinceSync && this.counterAtSync >= 0) {
      for (const p of this.providers) this.forget(p)
      this.clean = false
    } else this.clean = true
    const started = performance.now()
    let rows = 0
    let providers = 0
    const sink = this.sink((n) => (rows += n))
    for (const p of this.providers) {
      if (!this.stale.has(p)) continue
      providers++
      try {
        const { relations, state } = await p.sync(ctx, sink, this.states.get(p))
        const keep = new Set(relations.map((r) => `${r.schema}.${r.name}`))
        for (const old of this.made.get(p) ?? []) {
          if (!keep.has(`${old.schema}.${old.name}`)) this.runtime.exec(`DROP TABLE IF EXISTS ${ident(old.schema)}.${ident(old.name)}`)
        }
        this.made.set(p, relations)
        this.states.set(p, state)
        this.stale.delete(p)
      } catch (err) {
        this.forget(p)
        throw err
      }
    }
    this.counterAtSync = ctx.db.changeCounter
    this.eventSinceSync = false
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
      replace(def: RelationDef, rows: ColumnValues, n: number) {
        runtime.exec(createTableSql(def))
        if (n > 0) runtime.insertIpc(rowsToIpc(def, rows), def.schema, def.name, false)
        count(n)
      },
      append(def: RelationDef, rows: ColumnValues, n: number) {
        if (n > 0) runtime.insertIpc(rowsToIpc(def, rows), def.schema, def.name, false)
        count(n)
      },
    }
  }
}
