import type { CallContext } from '../../../engine/context.js'
import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SessionInfo, SessionOptions } from '../shared/item-types.js'
import { EventKind, insertEvent, nowIso } from './items-schema.js'
import { describe } from './list-rows.js'
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
    return ctx.write(() => {
      // Never an id this engine issued before (a session rolled back with its transaction): a
      // Session object made meanwhile must not stamp a later session's items.
      const id = Math.max(((ctx.db.get('SELECT max(id) FROM item_sessions')?.[0] as number | null) ?? 0) + 1, this.lastSessionId + 1)
      this.lastSessionId = id
      const now = nowIso()
      ctx.db.run('INSERT INTO item_sessions (id, name, user, kind, created_at) VALUES (?, ?, ?, ?, ?)', [id, name, user, kind, now])
      // Cell 0 always exists (appends of a session with no code still point at a cell).
      ctx.db.run('INSERT INTO item_cells (session, cell, code, created_at) VALUES (?, 0, ?, ?)', [id, options.code ?? '', now])
      insertEvent(ctx.db, EventKind.Cell, { session: id, cell: 0, ref: id })
      return { id, name, user, kind, currentCell: 0 }
    })
  }

  /** Add a notebook cell's code; returns its number (items appended next record it). */
  async cell(ctx: CallContext, session: number, code: string): Promise<number> {
    if (typeof code !== 'string') throw new InvalidArgumentError(`cell code must be a string, got ${describe(code)}`)
    checkWellFormed(code, 'cell code')
    return ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM item_sessions WHERE id = ?', [session])) throw new NotFoundError(`session ${String(session)} does not exist`)
      const cell = ((ctx.db.get('SELECT max(cell) FROM item_cells WHERE session = ?', [session])?.[0] as number | null) ?? -1) + 1
      ctx.db.run('INSERT INTO item_cells (session, cell, code, created_at) VALUES (?, ?, ?, ?)', [session, cell, code, nowIso()])
      insertEvent(ctx.db, EventKind.Cell, { session, cell, ref: session })
      return cell
    })
  }

  async info(ctx: CallContext, session: number): Promise<SessionInfo> {
    const r = ctx.db.get('SELECT id, name, user, kind, created_at FROM item_sessions WHERE id = ?', [session])
    if (!r) throw new NotFoundError(`session ${String(session)} does not exist`)
    const cells = ctx.db.all('SELECT code FROM item_cells WHERE session = ? ORDER BY cell', [session]).map((c) => c[0] as string)
    return { id: r[0] as number, name: r[1] as string, user: r[2] as string, kind: r[3] as 'script' | 'notebook', createdAt: r[4] as string, cells }
  }
}
