import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'

const CHUNK = 64
const multiCache = new Map<string, string>()

/**
 * Insert many rows with multi-row INSERTs of 64 rows (one statement step and one log run per 64
 * rows instead of per row; the statement recorder groups the runs), then single-row ones.
 */
export function insertRows(db: SqliteDatabase, table: string, columns: string[], rows: SqlValue[][], verb: 'INSERT' | 'INSERT OR REPLACE' = 'INSERT'): void {
  const tuple = `(${columns.map(() => '?').join(', ')})`
  const head = `${verb} INTO ${table} (${columns.join(', ')}) VALUES `
  let i = 0
  if (rows.length >= CHUNK) {
    const key = `${verb}|${table}|${columns.join(',')}`
    let multi = multiCache.get(key)
    if (!multi) multiCache.set(key, (multi = head + Array(CHUNK).fill(tuple).join(', ')))
    for (; i + CHUNK <= rows.length; i += CHUNK) {
      const params: SqlValue[] = []
      for (let r = i; r < i + CHUNK; r++) for (const v of rows[r]!) params.push(v)
      db.run(multi, params)
    }
  }
  const single = head + tuple
  for (; i < rows.length; i++) db.run(single, rows[i]!)
}

/** The blob hashes of vector segment rows (start, count, data, hash): those stored outside. */
export function blobHashes(segments: SqlValue[][]): string[] {
  return segments.flatMap((r) => (typeof r[3] === 'string' ? [r[3]] : []))
}
