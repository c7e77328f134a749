import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServed } from '../../../engine/lazy-domain.js'
import { sqlMethods } from '../shared/sql-methods.js'

/**
 * SQL over the vault (DuckDB). It keeps no SQLite tables of its own: its relations are derived from
 * the other domains' tables (src/domains/sql/engine/relations) and live only in DuckDB.
 */
export const sqlDomain: DomainRecord<typeof sqlMethods> = {
  name: 'sql',
  methods: sqlMethods,
  create(services) {
    // Its code (the relations, Arrow, DuckDB's glue) loads on the first call (docs/cold-start.md).
    const sql = lazyServed(sqlMethods.sql, async () => new (await import('./sql-engine.js')).SqlEngine(services))
    return { serve: { sql: sql.target }, closing: () => sql.loaded?.closing() }
  },
}
