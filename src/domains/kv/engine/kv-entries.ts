import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type { Key } from '../shared/kv-types.js'

// What other engine domains may do with key-value entries without knowing the kv tables: the
// process journal snapshots entries before a process changes them and puts them back on rollback.

/** Flag in `kv.kind`: `value` holds the hash of a blob, not the bytes. */
export const KV_IN_BLOB = 0x10
/**
 * Flag in `kv.kind`: the value was written as a stream, in chunks; `value` is the chunk list as JSON
 * text `{"size":N,"chunks":[hash,…]}` (src/domains/kv/engine/kv-streams.ts).
 */
export const KV_CHUNKED = 0x20

/** A query listing, one per row, the chunk hashes of chunked entries kept in `table` (kind, value columns). */
export function chunkReferences(table: string, where = '1'): string {
  // The CASE keeps json_each from ever parsing another kind's bytes, whatever order SQLite picks.
  const list = `CASE WHEN ${table}.kind & ${KV_CHUNKED} THEN ${table}.value ELSE '{"chunks":[]}' END`
  return `SELECT j.value FROM ${table}, json_each(${list}, '$.chunks') j WHERE ${where} AND ${table}.kind & ${KV_CHUNKED}`
}

const SQL = {
  nsId: 'SELECT id FROM kv_namespaces WHERE name = ?',
  nsCreate: 'INSERT INTO kv_namespaces (name) VALUES (?)',
  snapshot: 'SELECT kv.kind, kv.value FROM kv JOIN kv_namespaces n ON n.id = kv.ns WHERE n.name = ? AND kv.key = ?',
  upsert: 'INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES (?, ?, ?, ?)',
  delete: 'DELETE FROM kv WHERE ns = ? AND key = ?',
}

/**
 * An entry as stored: its kind (with {@link KV_IN_BLOB} when the value is in the blob store) and
 * its value (the bytes, or the blob's hash). A table that keeps snapshots must list the hashes it
 * holds among its domain's blob references (`kind & KV_IN_BLOB`), so the blobs stay alive.
 */
export interface KvEntrySnapshot {
  kind: number
  value: SqlValue
}

/** The id of a namespace for writing (inside a write function): created on first use. */
export function writeNamespace(db: SqliteDatabase, ns: string): number {
  const id = db.get(SQL.nsId, [ns])?.[0] as number | undefined
  if (id !== undefined) return id
  db.run(SQL.nsCreate, [ns])
  return db.get(SQL.nsId, [ns])![0] as number
}

/** The entry `key` of namespace `ns` as stored now; undefined when there is none. */
export function snapshotKvEntry(db: SqliteDatabase, ns: string, key: Key): KvEntrySnapshot | undefined {
  const row = db.get(SQL.snapshot, [ns, key])
  return row ? { kind: row[0] as number, value: row[1]! } : undefined
}

/** Inside a write: put back an entry as snapshotted (undefined: the entry did not exist, so it goes). */
export function restoreKvEntry(db: SqliteDatabase, ns: string, key: Key, snapshot: KvEntrySnapshot | undefined): void {
  if (snapshot) {
    db.run(SQL.upsert, [writeNamespace(db, ns), key, snapshot.kind, snapshot.value])
    return
  }
  const nsId = db.get(SQL.nsId, [ns])?.[0] as number | undefined
  if (nsId !== undefined) db.run(SQL.delete, [nsId, key])
}
