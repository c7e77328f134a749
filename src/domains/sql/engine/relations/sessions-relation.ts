import { isoMs, type RelationDef, type RelationProvider } from './relation.js'

/** `sessions`: one row per session (a notebook's or a script's run). */
export const SESSIONS_RELATION: RelationDef = {
  schema: 'main',
  name: 'sessions',
  columns: [
    { name: 'id', type: 'BIGINT' },
    { name: 'name', type: 'VARCHAR' },
    { name: 'user', type: 'VARCHAR' },
    { name: 'kind', type: 'VARCHAR' },
    { name: 'status', type: 'VARCHAR' },
    { name: 'parent', type: 'BIGINT' },
    { name: 'error', type: 'VARCHAR' },
    { name: 'created_at', type: 'TIMESTAMP' },
    { name: 'ended_at', type: 'TIMESTAMP' },
  ],
}

/** `cells`: the code cells of every session, in order. */
export const CELLS_RELATION: RelationDef = {
  schema: 'main',
  name: 'cells',
  columns: [
    { name: 'session', type: 'BIGINT' },
    { name: 'cell', type: 'BIGINT' },
    { name: 'code', type: 'VARCHAR' },
    { name: 'created_at', type: 'TIMESTAMP' },
  ],
}

/** Sessions and their cells (small tables: rebuilt whole when they change). */
export const sessionRelations: RelationProvider = {
  name: 'sessions',
  tables: ['item_sessions', 'item_session_states', 'item_cells'],
  async sync(ctx, sink) {
    const s = ctx.db.all(`SELECT s.id, s.name, s.user, s.kind, coalesce(t.status, 'running'), t.parent, t.error, s.created_at, t.ended_at
      FROM item_sessions s LEFT JOIN item_session_states t ON t.session = s.id ORDER BY s.id`)
    const col = (i: number) => s.map((r) => r[i])
    sink.replace(SESSIONS_RELATION, { id: col(0), name: col(1), user: col(2), kind: col(3), status: col(4), parent: col(5), error: col(6), created_at: col(7).map(isoMs), ended_at: col(8).map(isoMs) }, s.length)
    const c = ctx.db.all('SELECT session, cell, code, created_at FROM item_cells ORDER BY session, cell')
    sink.replace(CELLS_RELATION, { session: c.map((r) => r[0]), cell: c.map((r) => r[1]), code: c.map((r) => r[2]), created_at: c.map((r) => isoMs(r[3])) }, c.length)
    return { relations: [SESSIONS_RELATION, CELLS_RELATION], state: undefined }
  },
}
