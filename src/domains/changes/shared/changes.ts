/**
 * The change feed's types, shared by its client (`vault.watch`) and engine halves. The engine core
 * describes each commit as a {@link ChangeEvent} (src/engine/change-events.ts).
 */

/** What `vault.watch` reports: which data changed, and whether the change came from elsewhere. */
export interface ChangeEvent {
  /** Domains whose tables changed: `kv`, `items`, `processes`, `columns`, … (`*`: unknown, reload everything). */
  domains: string[]
  /** SQLite tables that changed. */
  tables: string[]
  /**
   * Of `tables`, those whose existing rows may have changed (updated, deleted, replaced, or the
   * table created): a table not listed here only gained rows. Absent: assume every table.
   */
  rewritten?: string[]
  /** Key-value namespaces that changed (when `kv` is among the domains). */
  kvNamespaces: string[]
  /** True when another process, tab or worker made the change (it was read from the shared log). */
  external: boolean
  /** Sequence number of the last log record included. */
  seq: number
}

/**
 * A change as an engine tells its listeners of it: a {@link ChangeEvent}, and whose forwarded call
 * made it. Engine-side only: the change feed strips `caller` before a watcher sees the event.
 */
export interface EngineChange extends ChangeEvent {
  /** The member (another tab or worker) whose forwarded call made it, when one did. */
  caller?: string
  /**
   * The key-value entries the commit wrote or deleted, as (namespace id, key) pairs, so that a
   * reader mirroring kv (vault.sql's `kv` relation) reloads only those. Absent when the commit
   * touched kv in a way that names no single entries (a namespace cleared, a statement not
   * recognised) or named too many of them: then assume all of kv changed. Never sent to watchers.
   */
  kvRows?: KvRowRef[]
}

/** A key-value entry as a commit names it: its namespace's id (`kv_namespaces.id`) and its key. */
export type KvRowRef = [ns: number, key: string | Uint8Array]

/** Which changes a watcher wants. Omitted fields match everything. */
export interface WatchFilter {
  /** Only changes of these domains (`kv`, `columns`, `items`, `tables`, …). */
  domains?: string[]
  /** Key-value changes only in these namespaces (plus changes of the other `domains` listed). */
  kvNamespaces?: string[]
  /** Only changes made by other processes, tabs or workers (default false: all changes). */
  externalOnly?: boolean
}

/**
 * The domains a change names (ChangeEvent.domains), which `WatchFilter.domains` may list: those whose
 * tables it can tell apart (src/engine/change-events.ts; test/node/watch-filter.test.ts keeps the
 * list in step with the domains' table prefixes), and `schema` for the engine's own table.
 */
export const WATCHABLE_DOMAINS: readonly string[] = ['kv', 'columns', 'items', 'processes', 'tables', 'store', 'schema']

/** Does `change` match `filter`? */
export function matchesFilter(change: ChangeEvent, filter: WatchFilter | undefined): boolean {
  if (!filter) return true
  if (filter.externalOnly && !change.external) return false
  if (change.domains.includes('*')) return true
  const want = filter.domains
  if (filter.kvNamespaces) {
    const kvHit = change.domains.includes('kv') && filter.kvNamespaces.some((n) => change.kvNamespaces.includes(n))
    const otherHit = want !== undefined && want.some((d) => d !== 'kv' && change.domains.includes(d))
    return kvHit || otherHit
  }
  if (want && !want.some((d) => change.domains.includes(d))) return false
  return true
}
