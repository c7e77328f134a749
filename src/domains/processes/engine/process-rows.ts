import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import { isWellFormed, toWellFormed } from '../../../codec/checks.js'
import { processJsonText } from '../shared/process-json.js'
import type { ProcessRequest, ProcessStatus } from '../shared/process-types.js'

// Rows of `processes` and the leases of their holders (`process_holders`).

/** Stored statuses of a process still running (or paused) as far as its row says. */
export const LIVE: ReadonlySet<string> = new Set(['running', 'paused'])

/** A row of `processes`, by name. */
export interface ProcessRow {
  id: string
  name: string
  holder: string
  /** The status as stored (see {@link currentStatus} for the status as seen now). */
  status: ProcessStatus
  /** A signal waiting for the process's next checkpoint. */
  request: ProcessRequest | null
  /** The stop was forced. */
  force: boolean
  /** The stop keeps what the operations in flight did. */
  materialize: boolean
  startedAt: string
  updatedAt: string
  finishedAt: string | null
  error: string | null
  checkpoints: number
  /** The progress as stored (JSON text). */
  progress: SqlValue
}

const COLUMNS = 'id, name, holder, status, request, force, materialize, started_at, updated_at, finished_at, error, checkpoints, progress'

const SQL = {
  byId: `SELECT ${COLUMNS} FROM processes WHERE id = ?`,
  live: `SELECT ${COLUMNS} FROM processes WHERE status IN ('running', 'paused') ORDER BY started_at, id`,
  liveUnordered: `SELECT ${COLUMNS} FROM processes WHERE status IN ('running', 'paused')`,
  all: `SELECT ${COLUMNS} FROM processes ORDER BY started_at DESC, id`,
  named: `SELECT ${COLUMNS} FROM processes WHERE name = ? ORDER BY started_at DESC, id`,
  lease: 'SELECT lease_until FROM process_holders WHERE id = ?',
  renew: 'INSERT OR REPLACE INTO process_holders (id, lease_until, info) VALUES (?, ?, NULL)',
  leave: 'DELETE FROM process_holders WHERE id = ?',
  expired: 'DELETE FROM process_holders WHERE lease_until < ?',
}

function toProcessRow(r: SqlValue[]): ProcessRow {
  return {
    id: r[0] as string,
    name: r[1] as string,
    holder: r[2] as string,
    status: r[3] as ProcessStatus,
    request: (r[4] as ProcessRequest | null) ?? null,
    force: r[5] === 1,
    materialize: r[6] === 1,
    startedAt: r[7] as string,
    updatedAt: r[8] as string,
    finishedAt: (r[9] as string | null) ?? null,
    error: (r[10] as string | null) ?? null,
    checkpoints: r[11] as number,
    progress: r[12]!,
  }
}

/** The process `id`; undefined when there is none. */
export function findProcess(db: SqliteDatabase, id: string): ProcessRow | undefined {
  const r = db.get(SQL.byId, [id])
  return r ? toProcessRow(r) : undefined
}

/** The process `id`; NotFoundError when there is none. */
export function mustFindProcess(db: SqliteDatabase, id: string): ProcessRow {
  const row = findProcess(db, id)
  if (!row) throw new NotFoundError(`no process with id "${id}"`)
  return row
}

/** Processes whose stored status is live, oldest first (`ordered`) or in table order. */
export function liveProcesses(db: SqliteDatabase, ordered = true): ProcessRow[] {
  return db.all(ordered ? SQL.live : SQL.liveUnordered).map(toProcessRow)
}

/** Every process (or those named `name`), newest first. */
export function allProcesses(db: SqliteDatabase, name?: string): ProcessRow[] {
  return (name === undefined ? db.all(SQL.all) : db.all(SQL.named, [name])).map(toProcessRow)
}

/** True while the holder's lease runs at `now`. */
export function holderAlive(db: SqliteDatabase, holder: string, now: number): boolean {
  const r = db.get(SQL.lease, [holder])
  return r !== undefined && (r[0] as number) >= now
}

/** Inside a write: the holder's lease runs until `now + leaseMs`. */
export function renewLease(db: SqliteDatabase, holder: string, now: number, leaseMs: number): void {
  db.run(SQL.renew, [holder, now + leaseMs])
}

/** Inside a write: the holder's lease ends now. */
export function endLease(db: SqliteDatabase, holder: string): void {
  db.run(SQL.leave, [holder])
}

/**
 * Inside a write: forget holders whose lease ended before `before`. A missing row and an expired
 * one mean the same (the holder is dead; its live processes show as crashed; a renewal writes the
 * row again), so this changes no status: it only keeps the table from holding every Vault that
 * ever ran a process and went away without `leave` (closing does not leave).
 */
export function pruneExpiredLeases(db: SqliteDatabase, before: number): void {
  db.run(SQL.expired, [before])
}

/** The status as seen now: a live status whose holder's lease expired is `crashed`. */
export function currentStatus(db: SqliteDatabase, row: ProcessRow, now: number): ProcessStatus {
  if (LIVE.has(row.status) && !holderAlive(db, row.holder, now)) return 'crashed'
  return row.status
}

export const iso = (ms: number): string => new Date(ms).toISOString()

export function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200 || !isWellFormed(id)) throw new InvalidArgumentError('a process id must be a non-empty, well-formed string of at most 200 characters')
}

/** An error message as stored: at most 4000 characters, never half a surrogate pair (SQLite text). */
export function storedMessage(message: unknown): string {
  let s = String(message)
  if (s.length > 4000) s = s.slice(0, (s.charCodeAt(3999) & 0xfc00) === 0xd800 ? 3999 : 4000)
  // A diagnostic, not data: a lone surrogate in it becomes U+FFFD rather than failing the call.
  return toWellFormed(s)
}

/** Stored JSON back to a value; null when absent or unreadable. */
export function parseJson(text: SqlValue | undefined): unknown {
  if (typeof text !== 'string') return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/**
 * A value as stored JSON (null for undefined); InvalidArgumentError when it cannot be, when JSON
 * would change it silently (NaN and ±Infinity became null), or when its text is over the limit
 * (shared/process-json.ts). `where` names it in the message.
 */
export function toJson(value: unknown, where = 'process progress or journal state'): string | null {
  if (value === undefined) return null
  // A function or symbol at the top: nothing to store, as for undefined.
  return processJsonText(value, where) ?? null
}
