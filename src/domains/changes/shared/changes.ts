import type { SqliteDatabase, StatementGroup } from '../../../sqlite/sqlite-database.js'

/** What `vault.watch` reports: which data changed, and whether the change came from elsewhere. */
export interface ChangeEvent {
  /** Domains whose tables changed: `kv`, `items`, `processes`, `columns`, … (`*`: unknown, reload everything). */
  domains: string[]
  /** SQLite tables that changed. */
  tables: string[]
  /** Key-value namespaces that changed (when `kv` is among the domains). */
  kvNamespaces: string[]
  /** True when another process, tab or worker made the change (it was read from the shared log). */
  external: boolean
  /** Sequence number of the last log record included. */
  seq: number
}

/** Which changes a watcher wants. Omitted fields match everything. */
export interface WatchFilter {
  domains?: string[]
  kvNamespaces?: string[]
  /** Only changes made by other processes, tabs or workers (default false: all changes). */
  externalOnly?: boolean
}

const tableOf = new Map<string, string | null>()
const WRITE = /^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+["`[]?(\w+)/i
const CREATE = /CREATE\s+(?:TABLE|INDEX|VIRTUAL\s+TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?["`[]?(\w+)/gi

function writtenTable(sql: string): string | null {
  let t = tableOf.get(sql)
  if (t === undefined) {
    t = WRITE.exec(sql)?.[1] ?? null
    tableOf.set(sql, t)
  }
  return t
}

/** The domain a table belongs to. */
export function domainOfTable(table: string): string {
  if (table.startsWith('kv')) return 'kv'
  if (table.startsWith('item')) return 'items'
  if (table.startsWith('process')) return 'processes'
  if (table.startsWith('column') || table.startsWith('col_')) return 'columns'
  if (table === 'schema_versions') return 'schema'
  return table
}

/** Describe logged statement groups as a change event. */
export function describeChanges(db: SqliteDatabase, groups: StatementGroup[], external: boolean, seq: number, reloaded = false): ChangeEvent {
  const tables = new Set<string>()
  const nsIds = new Set<number>()
  for (const [sql, runs] of groups) {
    if (runs.length === 0) {
      for (const m of sql.matchAll(CREATE)) tables.add(m[1]!)
      continue
    }
    const t = writtenTable(sql)
    // The request log is the engine's own bookkeeping (src/engine/request-log.ts), not user data.
    if (!t || t === 'request_log') continue
    tables.add(t)
    if (t === 'kv') for (const params of runs) if (typeof params[0] === 'number') nsIds.add(params[0])
  }
  const kvNamespaces: string[] = []
  for (const id of nsIds) {
    try {
      const row = db.get('SELECT name FROM kv_namespaces WHERE id = ?', [id])
      if (row) kvNamespaces.push(row[0] as string)
    } catch {}
  }
  const domains = reloaded ? ['*'] : [...new Set([...tables].map(domainOfTable))]
  return { domains, tables: [...tables], kvNamespaces, external, seq }
}

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
