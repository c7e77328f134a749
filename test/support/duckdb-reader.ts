// Native DuckDB (@duckdb/node-api) as an independent Parquet reader for the Node tests.
import { DuckDBInstance } from '@duckdb/node-api'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

let instance: Promise<DuckDBInstance> | undefined

/**
 * Rows of a Parquet file as DuckDB reads them (JSON-friendly values), with column names and types.
 * `sql` reads from `f` (the file's rows); `$FILE` in it is the file's quoted path.
 */
export async function duckdbReadParquet(bytes: Uint8Array, dir: string, sql = 'SELECT * FROM f'): Promise<{ rows: Record<string, unknown>[]; names: string[]; types: string[] }> {
  const file = join(dir, `read-${Math.random().toString(36).slice(2)}.parquet`)
  writeFileSync(file, bytes)
  instance ??= DuckDBInstance.create(':memory:')
  const connection = await (await instance).connect()
  try {
    const quoted = `'${file.replaceAll("'", "''")}'`
    const reader = await connection.runAndReadAll(`WITH f AS (SELECT * FROM read_parquet(${quoted})) ${sql.replaceAll('$FILE', quoted)}`)
    return { rows: reader.getRowObjectsJson() as Record<string, unknown>[], names: reader.columnNames(), types: reader.columnTypes().map(String) }
  } finally {
    connection.closeSync()
  }
}

/** Runs SQL in native DuckDB (e.g. `COPY … TO '…' (FORMAT parquet, COMPRESSION zstd)`). */
export async function duckdbRun(sql: string): Promise<Record<string, unknown>[]> {
  instance ??= DuckDBInstance.create(':memory:')
  const connection = await (await instance).connect()
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
  } finally {
    connection.closeSync()
  }
}
