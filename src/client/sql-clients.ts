import type { Table } from 'apache-arrow'
import type { DomainCaller } from '../protocol/domain-caller.js'
import type { SqlOptions } from '../domains/sql/shared/sql-types.js'
import { runSql, sqlCall, sqlRelations } from '../domains/sql/client/sql-client.js'
import { exportParquet, type ExportParquetOptions } from '../domains/sql/client/sql-parquet.js'

// `vault.sql`, `exportParquet`, `importParquet` and `vault.databaseClient()`: one module, so one
// dynamic import for the SQL client's chunk (scripts/build.mjs) instead of three
// (docs/cold-start.md, "Main-thread bytes"). The database client rides along: each of its queries
// (and its relations) needs this chunk anyway.
export * from '../domains/sql/client/sql-client.js'
export * from '../domains/sql/client/sql-parquet.js'
export { DatabaseClient } from '../domains/sql/client/database-client.js'

// What the vault's SQL methods do once this module is loaded: the vault (src/client/vault.ts) keeps
// only the call, so its methods cost the page a line each.

/** `vault.sql(first, ...rest)`: a text and options, or a tagged template. */
export function vaultSql(caller: DomainCaller, first: unknown, rest: unknown[]): Promise<Table> {
  const { text, options } = sqlCall(first, rest)
  return runSql(caller, text, options)
}

/** `vault.exportParquet`: the query runs through `sql` (the vault's own, so close() waits for it). */
export function vaultExportParquet(sql: (text: string, options: SqlOptions) => Promise<Table>, caller: DomainCaller, queryOrRelation: string, options?: ExportParquetOptions): Promise<Uint8Array> {
  return exportParquet(sql, () => sqlRelations(caller), queryOrRelation, options)
}
