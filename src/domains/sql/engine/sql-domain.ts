import type { DomainRecord } from '../../../engine/domain-record.js'
import { sqlMethods } from '../shared/sql-methods.js'
import { SqlEngine } from './sql-engine.js'

/**
 * SQL over the vault (DuckDB). It keeps no SQLite tables of its own: its relations are derived from
 * the other domains' tables (src/domains/sql/engine/relations) and live only in DuckDB.
 */
export const sqlDomain: DomainRecord<typeof sqlMethods> = {
  name: 'sql',
  methods: sqlMethods,
  create(services) {
    const sql = new SqlEngine(services)
    return { serve: { sql }, closing: () => sql.closing() }
  },
}
