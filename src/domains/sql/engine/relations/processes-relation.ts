import { isoMs, type RelationDef, type RelationProvider } from './relation.js'

/** `processes`: every process the vault knows, running or finished. */
export const PROCESSES_RELATION: RelationDef = {
  schema: 'main',
  name: 'processes',
  columns: [
    { name: 'id', type: 'VARCHAR' },
    { name: 'name', type: 'VARCHAR' },
    { name: 'status', type: 'VARCHAR' },
    { name: 'holder', type: 'VARCHAR' },
    { name: 'request', type: 'VARCHAR' },
    { name: 'started_at', type: 'TIMESTAMP' },
    { name: 'updated_at', type: 'TIMESTAMP' },
    { name: 'finished_at', type: 'TIMESTAMP' },
    { name: 'error', type: 'VARCHAR' },
    { name: 'checkpoints', type: 'BIGINT' },
    { name: 'progress', type: 'VARCHAR' },
  ],
}

/** Processes (a small table: rebuilt whole when it changes). `progress` is JSON text. */
export const processRelations: RelationProvider = {
  name: 'processes',
  tables: ['processes'],
  async sync(ctx, sink) {
    const rows = ctx.db.all('SELECT id, name, status, holder, request, started_at, updated_at, finished_at, error, checkpoints, progress FROM processes ORDER BY started_at, id')
    const col = (i: number) => rows.map((r) => r[i])
    sink.replace(
      PROCESSES_RELATION,
      { id: col(0), name: col(1), status: col(2), holder: col(3), request: col(4), started_at: col(5).map(isoMs), updated_at: col(6).map(isoMs), finished_at: col(7).map(isoMs), error: col(8), checkpoints: col(9), progress: col(10) },
      rows.length,
    )
    return { relations: [PROCESSES_RELATION], state: undefined }
  },
}
