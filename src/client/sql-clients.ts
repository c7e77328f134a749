// `vault.sql`, `exportParquet`, `importParquet` and the database client's relations: one module, so
// one dynamic import for the SQL client's chunk (scripts/build.mjs) instead of two
// (docs/cold-start.md, "Main-thread bytes").
export * from '../domains/sql/client/sql-client.js'
export * from '../domains/sql/client/sql-parquet.js'
