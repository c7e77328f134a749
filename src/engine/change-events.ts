import type { SqliteDatabase, StatementGroup } from '../sqlite/sqlite-database.js'
import type { EngineChange, KvRowRef } from '../domains/changes/shared/changes.js'
import type { AnyDomainRecord } from './domain-record.js'

/**
 * What a commit changed, as watchers see it (`vault.watch`, src/domains/changes): read from the
 * statement groups the commit logged, so that commits of this engine and commits of other
 * processes read back from the shared log are described alike.
 */

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

/** The domain a table belongs to, by the table prefixes of the domains' records (in their order). */
export type DomainOfTable = (table: string) => string

/**
 * Which domain a table belongs to: the first record whose table prefixes it starts with. The
 * engine's own tables are not a domain's: `schema_versions` is reported as `schema`; any other
 * table (the request log) by its own name.
 */
export function domainOfTableFor(records: readonly AnyDomainRecord[]): DomainOfTable {
  const prefixes: [prefix: string, domain: string][] = []
  for (const r of records) for (const p of r.storage?.tablePrefixes ?? []) prefixes.push([p, r.name])
  return (table) => {
    for (const [prefix, domain] of prefixes) if (table.startsWith(prefix)) return domain
    return table === 'schema_versions' ? 'schema' : table
  }
}

/**
 * The key-value statements whose rows are named by their parameters, and where: each run's
 * parameters hold (namespace id, key) pairs from offset 0 every `stride` values. The engine's kv
 * writes are these (src/domains/kv/engine: a put, a bulk put of many rows per statement, an
 * insert-if-missing, a delete); any other statement on kv (a namespace cleared) names no entries.
 */
const strides = new Map<string, number | undefined>()
function kvRowStride(sql: string): number | undefined {
  if (strides.has(sql)) return strides.get(sql)
  const stride = kvRowStrideOf(sql)
  strides.set(sql, stride)
  return stride
}

function kvRowStrideOf(sql: string): number | undefined {
  if (/^INSERT OR (?:REPLACE|IGNORE) INTO kv \(ns, key, kind, value\) VALUES \(\?, \?, \?, \?\)(?:, \(\?, \?, \?, \?\))*$/.test(sql)) return 4
  if (sql === 'DELETE FROM kv WHERE ns = ? AND key = ?') return 2
  return undefined
}

/** More entries than this in one commit: a reader reloads all of kv rather than follow them one by one. */
export const KV_ROWS_LISTED = 20_000

/** Describe logged statement groups as a change event. */
export function describeChanges(db: SqliteDatabase, groups: StatementGroup[], domainOfTable: DomainOfTable, external: boolean, seq: number, reloaded = false): EngineChange {
  const tables = new Set<string>()
  const rewritten = new Set<string>()
  const nsIds = new Set<number>()
  // The kv entries written or deleted, while every kv statement names its rows (see EngineChange.kvRows).
  let kvRows: KvRowRef[] | undefined = []
  for (const [sql, runs] of groups) {
    if (runs.length === 0) {
      for (const m of sql.matchAll(CREATE)) {
        tables.add(m[1]!)
        rewritten.add(m[1]!)
      }
      continue
    }
    const t = writtenTable(sql)
    // The request log is the engine's own bookkeeping (src/engine/request-log.ts), not user data.
    if (!t || t === 'request_log') continue
    tables.add(t)
    if (!isPlainInsert(sql)) rewritten.add(t)
    // Watchers may follow single key-value namespaces (`WatchFilter.kvNamespaces`): a row's first
    // parameter is its namespace id.
    if (t === 'kv') for (const params of runs) if (typeof params[0] === 'number') nsIds.add(params[0])
    if (t === 'kv' && kvRows) kvRows = kvRowsOf(sql, runs, kvRows)
    // A namespace renamed or removed would change the names of entries no statement on kv named.
    else if (t === 'kv_namespaces' && !isPlainInsert(sql)) kvRows = undefined
  }
  const kvNamespaces: string[] = []
  for (const id of nsIds) {
    try {
      const row = db.get('SELECT name FROM kv_namespaces WHERE id = ?', [id])
      if (row) kvNamespaces.push(row[0] as string)
    } catch {}
  }
  const domains = reloaded ? ['*'] : [...new Set([...tables].map(domainOfTable))]
  const change: EngineChange = { domains, tables: [...tables], rewritten: [...rewritten], kvNamespaces, external, seq }
  if (kvRows && !reloaded && (tables.has('kv') || tables.has('kv_namespaces'))) change.kvRows = kvRows
  return change
}

/** `rows` with the entries a kv statement's runs name; undefined when they cannot be told apart or are too many. */
function kvRowsOf(sql: string, runs: StatementGroup[1], rows: KvRowRef[]): KvRowRef[] | undefined {
  const stride = kvRowStride(sql)
  if (stride === undefined) return undefined
  for (const params of runs) {
    if (params.length % stride !== 0 || rows.length + params.length / stride > KV_ROWS_LISTED) return undefined
    for (let i = 0; i < params.length; i += stride) {
      const ns = params[i]
      const key = params[i + 1]
      if (typeof ns !== 'number' || !(typeof key === 'string' || key instanceof Uint8Array)) return undefined
      rows.push([ns, key])
    }
  }
  return rows
}

const plainInsert = new Map<string, boolean>()

/**
 * Does the statement only add rows (an INSERT that neither replaces nor upserts)? Readers that
 * mirror an append-only table (vault.sql's relations) then load just the new rows.
 */
function isPlainInsert(sql: string): boolean {
  let plain = plainInsert.get(sql)
  if (plain === undefined) {
    plain = /^\s*INSERT(?:\s+OR\s+(?:IGNORE|ABORT|FAIL|ROLLBACK))?\s+INTO\b/i.test(sql) && !/\bON\s+CONFLICT\b[\s\S]*\bDO\s+UPDATE\b/i.test(sql)
    plainInsert.set(sql, plain)
  }
  return plain
}
