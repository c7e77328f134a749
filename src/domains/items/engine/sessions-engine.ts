import type { CallContext } from '../../../engine/context.js'
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import type { SessionInfo, SessionOptions, SessionRef, SessionStatus, SessionSummary, SessionWrite } from '../shared/item-types.js'
import { EventKind, insertEvent, nowIso } from './items-schema.js'
import { checkSessionVault, describe, liveList } from './list-rows.js'
import { vaultIdOf } from '../../../engine/vault-identity.js'
import type { StartedSession } from '../shared/item-types.js'
import { checkName, checkWellFormed } from '../../../codec/checks.js'

/**
 * Sessions: who runs which code. A script session stores its code as cell 0; a notebook session
 * adds a cell per `session.cell(code)`. Appends name the session and its current cell, so every
 * item can be traced to the exact code that made it; cells are indexed for text search.
 */
export class SessionsEngine {
  /** The highest session id this engine handed out (see `start`). */
  private lastSessionId = 0

  async start(ctx: CallContext, name: string, options: SessionOptions = {}): Promise<StartedSession> {
    checkName(name, 'a session name', 256)
    options ??= {}
    if (options.code !== undefined && typeof options.code !== 'string') throw new InvalidArgumentError('session code must be a string')
    if (options.user !== undefined && typeof options.user !== 'string') throw new InvalidArgumentError('session user must be a string')
    // Code and user are SQLite text (code search runs in SQL): no lone surrogates.
    if (options.code !== undefined) checkWellFormed(options.code, 'session code')
    if (options.user !== undefined) checkWellFormed(options.user, 'session user')
    const kind = options.kind ?? 'script'
    if (kind !== 'script' && kind !== 'notebook') throw new InvalidArgumentError(`session kind must be "script" or "notebook", got ${describe(kind)}`)
    const user = options.user ?? ''
    const parent = parentId(options.parent)
    return ctx.write(() => {
      if (parent !== null && typeof options.parent === 'object') checkSessionVault(ctx.db, options.parent)
      if (parent !== null && !ctx.db.get('SELECT 1 FROM item_sessions WHERE id = ?', [parent])) throw new NotFoundError(`parent session ${parent} does not exist`)
      // Never an id this engine issued before (a session rolled back with its transaction): a
      // Session object made meanwhile must not stamp a later session's items.
      const id = Math.max(((ctx.db.get('SELECT max(id) FROM item_sessions')?.[0] as number | null) ?? 0) + 1, this.lastSessionId + 1)
      this.lastSessionId = id
      const now = nowIso()
      ctx.db.run('INSERT INTO item_sessions (id, name, user, kind, created_at) VALUES (?, ?, ?, ?, ?)', [id, name, user, kind, now])
      ctx.db.run("INSERT INTO item_session_states (session, parent, status) VALUES (?, ?, 'running')", [id, parent])
      // Cell 0 always exists (appends of a session with no code still point at a cell).
      ctx.db.run('INSERT INTO item_cells (session, cell, code, created_at) VALUES (?, 0, ?, ?)', [id, options.code ?? '', now])
      insertEvent(ctx.db, EventKind.Cell, { session: id, cell: 0, ref: id })
      const started: StartedSession = { id, name, user, kind, currentCell: 0 }
      // The vault's id, which the Session carries (every write-capable open has one: vault-identity.ts).
      const vault = vaultIdOf(ctx.db)
      if (vault !== undefined) started.vault = vault
      return started
    })
  }

  /** Add a notebook cell's code; returns its number (items appended next record it). */
  async cell(ctx: CallContext, session: number, code: string): Promise<number> {
    if (typeof code !== 'string') throw new InvalidArgumentError(`cell code must be a string, got ${describe(code)}`)
    checkWellFormed(code, 'cell code')
    checkId(session)
    return ctx.write(() => {
      // A finished session's code is what made its items: a cell added later would be searched
      // as theirs (search.code), so it is refused as appends are.
      const now = summary(ctx.db, session)
      if (now.status !== 'running') throw new ConflictError(`session ${session} is ${now.status}: start a new session to run more code`)
      const cell = ((ctx.db.get('SELECT max(cell) FROM item_cells WHERE session = ?', [session])?.[0] as number | null) ?? -1) + 1
      ctx.db.run('INSERT INTO item_cells (session, cell, code, created_at) VALUES (?, ?, ?, ?)', [session, cell, code, nowIso()])
      insertEvent(ctx.db, EventKind.Cell, { session, cell, ref: session })
      return cell
    })
  }

  /** Mark a running session completed. */
  async done(ctx: CallContext, session: number): Promise<SessionSummary> {
    return this.finish(ctx, session, 'completed', null)
  }

  /** Mark a running session failed, keeping the error's text. */
  async fail(ctx: CallContext, session: number, error: string): Promise<SessionSummary> {
    if (typeof error !== 'string') throw new InvalidArgumentError(`a session's error must be a string, got ${describe(error)}`)
    checkWellFormed(error, "a session's error")
    return this.finish(ctx, session, 'failed', error)
  }

  private finish(ctx: CallContext, session: number, status: SessionStatus, error: string | null): Promise<SessionSummary> {
    checkId(session)
    return ctx.write(() => {
      const now = summary(ctx.db, session)
      // Finishing is once: a completed session that later "fails" would rewrite history.
      if (now.status !== 'running') throw new ConflictError(`session ${session} is already ${now.status}`)
      ctx.db.run('INSERT OR REPLACE INTO item_session_states (session, parent, status, error, ended_at) VALUES (?, ?, ?, ?, ?)', [session, now.parent ?? null, status, error, nowIso()])
      return summary(ctx.db, session)
    })
  }

  /** Every session, oldest first, with status, parent and times. */
  async list(ctx: CallContext, options: { parent?: number; status?: SessionStatus } = {}): Promise<SessionSummary[]> {
    options ??= {}
    if (options.parent !== undefined) checkId(options.parent)
    if (options.status !== undefined && !STATUSES.includes(options.status)) throw new InvalidArgumentError(`status must be one of ${STATUSES.join(', ')}, got ${describe(options.status)}`)
    return ctx.db
      .all(`${SUMMARY_SQL} ORDER BY s.id`)
      .map(toSummary)
      .filter((s) => (options.parent === undefined || s.parent === options.parent) && (options.status === undefined || s.status === options.status))
  }

  /** The appends a session made: list and index range of each, in order (TableVault's query_process_item). */
  async wrote(ctx: CallContext, session: number): Promise<SessionWrite[]> {
    summary(ctx.db, session)
    return ctx.db
      .all('SELECT l.name, e.start, e.end, e.created_at, l.deleted_at FROM item_events e JOIN item_lists l ON l.id = e.list WHERE e.kind = 1 AND e.session = ? ORDER BY e.id', [session])
      .map((r) => {
        const w: SessionWrite = { list: r[0] as string, start: r[1] as number, end: r[2] as number, createdAt: r[3] as string }
        if (r[4] !== null) w.deleted = true
        return w
      })
  }

  /** The sessions that appended to a list, in the order of their first append. */
  async createdBy(ctx: CallContext, list: string | { name: string; id: number }): Promise<SessionSummary[]> {
    const row = liveList(ctx.db, list)
    const ids = ctx.db.all('SELECT session, min(id) AS first FROM item_events WHERE kind = 1 AND list = ? AND session IS NOT NULL GROUP BY session ORDER BY first', [row.id])
    return ids.map((r) => summary(ctx.db, r[0] as number))
  }

  async info(ctx: CallContext, session: number): Promise<SessionInfo> {
    const info = summary(ctx.db, session)
    const cells = ctx.db.all('SELECT code FROM item_cells WHERE session = ? ORDER BY cell', [session]).map((c) => c[0] as string)
    return { ...info, cells }
  }
}

const STATUSES: SessionStatus[] = ['running', 'completed', 'failed']

// A session without a state row was made before schema version 2: running, no parent.
const SUMMARY_SQL = `SELECT s.id, s.name, s.user, s.kind, s.created_at, coalesce(t.status, 'running'), t.error, t.parent, t.ended_at
  FROM item_sessions s LEFT JOIN item_session_states t ON t.session = s.id`

function toSummary(r: unknown[]): SessionSummary {
  const out: SessionSummary = { id: r[0] as number, name: r[1] as string, user: r[2] as string, kind: r[3] as 'script' | 'notebook', status: r[5] as SessionStatus, createdAt: r[4] as string }
  if (r[6] !== null) out.error = r[6] as string
  if (r[7] !== null) out.parent = r[7] as number
  if (r[8] !== null) out.endedAt = r[8] as string
  return out
}

function checkId(session: unknown): void {
  if (typeof session !== 'number' || !Number.isSafeInteger(session)) throw new InvalidArgumentError(`a session id must be an integer, got ${describe(session)}`)
}

function summary(db: SqliteDatabase, session: number): SessionSummary {
  checkId(session)
  const r = db.get(`${SUMMARY_SQL} WHERE s.id = ?`, [session])
  if (!r) throw new NotFoundError(`session ${String(session)} does not exist`)
  return toSummary(r)
}

function parentId(parent: SessionRef | number | undefined | null): number | null {
  if (parent === undefined || parent === null) return null
  const id = typeof parent === 'number' ? parent : (parent as SessionRef).id
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new InvalidArgumentError('parent must be a Session from vault.session() or its id')
  return id
}
