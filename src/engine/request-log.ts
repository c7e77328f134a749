import { Packr } from 'msgpackr'
import type { SqliteDatabase } from '../sqlite/sqlite-database.js'
import type { DomainSchema } from './context.js'

/**
 * The request log: which forwarded calls a vault has already applied, and what they returned.
 *
 * A tab that forwards a write to the leader tab sends it again to the next leader when the first
 * one vanished before answering (src/sharing/tabs/tab-sharing.ts). The row naming the call's request key
 * commits in the same log record as the call's changes, so the new leader (which replayed the log)
 * knows whether the call was applied and answers with the recorded result instead of applying it
 * twice. Rows older than {@link REQUEST_RETENTION_MS} are pruned as new ones arrive: a resend comes
 * within the leader-failover time (about a second), far inside that.
 */
export const requestLogSchema: DomainSchema & { name: string; version: number } = {
  // Its row in schema_versions (the engine core's own table, beside the domains').
  name: 'requests',
  version: 1,
  schema: `CREATE TABLE IF NOT EXISTS request_log (
    key TEXT PRIMARY KEY,
    result BLOB,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS request_log_at ON request_log (at);`,
}

/** How long an applied request is remembered. */
export const REQUEST_RETENTION_MS = 10 * 60_000

// Results are plain data, typed arrays, bigints; no shared record structures (any tab decodes).
const packr = new Packr({ useRecords: false, moreTypes: true, mapsAsObjects: true, useBigIntExtension: true })

/** A request already applied: its result, or undefined when it was never recorded. */
export function appliedRequest(db: SqliteDatabase, key: string): { result: unknown } | undefined {
  const row = db.get('SELECT result FROM request_log WHERE key = ?', [key])
  if (!row) return undefined
  const bytes = row[0] as Uint8Array | null
  return { result: bytes === null ? undefined : packr.unpack(bytes) }
}

/** Record a request as applied (inside the write that applies it), and forget old ones. */
export function recordRequest(db: SqliteDatabase, key: string, result: unknown, now = Date.now()): void {
  db.run('DELETE FROM request_log WHERE at < ?', [now - REQUEST_RETENTION_MS])
  db.run('INSERT OR REPLACE INTO request_log (key, result, at) VALUES (?, ?, ?)', [key, result === undefined ? null : packr.pack(result), now])
}
