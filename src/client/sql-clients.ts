// `vault.sql`, `exportParquet`, `importParquet` and `vault.databaseClient()`: one module, so one
// dynamic import for the SQL client's chunk (scripts/build.mjs) instead of three
// (docs/cold-start.md, "Main-thread bytes"). The database client rides along: each of its queries
// (and its relations) needs this chunk anyway.
export * from '../domains/sql/client/sql-client.js'
export * from '../domains/sql/client/sql-parquet.js'
export { DatabaseClient } from '../domains/sql/client/database-client.js'
