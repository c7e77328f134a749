// Node SQL benchmark (issue 12): the built package on the fs adapter (DuckDB's wasm build in-process),
// side by side with raw duckdb-wasm on the same Arrow data, native DuckDB (@duckdb/node-api: the
// candidate engine for Node) and sql.js. The measurements are in bench/lib/sql-suite.mjs (shared
// with Chromium).
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tableFromArrays, tableToIPC } from 'apache-arrow'
import initSqlJs from 'sql.js'
import { deleteVault, openVault } from '../../dist/node/node.js'
import { runSqlSuite } from '../lib/sql-suite.mjs'

const require = createRequire(import.meta.url)

/** Rows as an Arrow IPC stream (columns in row order). */
function toIpc(rows) {
  const cols = Object.fromEntries(Object.keys(rows[0]).map((k) => [k, rows.map((r) => r[k])]))
  return tableToIPC(tableFromArrays({ ...cols, fold: Int32Array.from(cols.fold), n_samples: Int32Array.from(cols.n_samples), val_score: Float64Array.from(cols.val_score), test_score: Float64Array.from(cols.test_score), duration_ms: Float64Array.from(cols.duration_ms) }), 'stream')
}

async function rawDuckDb(ipc) {
  const duck = require('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs')
  const dist = require.resolve('@duckdb/duckdb-wasm/dist/duckdb-eh.wasm').replace(/duckdb-eh\.wasm$/, '')
  const db = await duck.createDuckDB({ mvp: { mainModule: `${dist}duckdb-mvp.wasm`, mainWorker: '' }, eh: { mainModule: `${dist}duckdb-eh.wasm`, mainWorker: '' } }, new duck.VoidLogger(), duck.NODE_RUNTIME)
  await db.instantiate()
  db.open({ path: ':memory:' })
  const conn = db.connect()
  conn.insertArrowFromIPCStream(ipc, { name: 'predictions', create: true })
  return { query: async (sql) => conn.query(sql).toArray(), close: () => conn.close() }
}

async function nativeDuckDb(rows) {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  await conn.run('CREATE TABLE predictions (pipeline VARCHAR, model_class VARCHAR, dataset VARCHAR, fold INTEGER, val_score DOUBLE, test_score DOUBLE, n_samples INTEGER, duration_ms DOUBLE)')
  const appender = await conn.createAppender('predictions')
  for (const r of rows) {
    appender.appendVarchar(r.pipeline)
    appender.appendVarchar(r.model_class)
    appender.appendVarchar(r.dataset)
    appender.appendInteger(r.fold)
    appender.appendDouble(r.val_score)
    appender.appendDouble(r.test_score)
    appender.appendInteger(r.n_samples)
    appender.appendDouble(r.duration_ms)
    appender.endRow()
  }
  appender.closeSync()
  return { query: async (sql) => (await conn.runAndReadAll(sql)).getRowObjects(), close: () => conn.closeSync() }
}

async function sqlJs(rows) {
  const SQL = await initSqlJs()
  const db = new SQL.Database()
  db.exec('CREATE TABLE predictions (pipeline TEXT, model_class TEXT, dataset TEXT, fold INTEGER, val_score REAL, test_score REAL, n_samples INTEGER, duration_ms REAL)')
  db.exec('BEGIN')
  const ins = db.prepare('INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  for (const r of rows) ins.run([r.pipeline, r.model_class, r.dataset, r.fold, r.val_score, r.test_score, r.n_samples, r.duration_ms])
  ins.free()
  db.exec('COMMIT')
  return { query: async (sql) => db.exec(sql), close: () => db.close() }
}

export default async function runNodeSqlBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-sql-'))
  try {
    return await runSqlSuite({
      environment: 'node',
      open: (name) => openVault(name, { path: dir }),
      remove: (name) => deleteVault(name, { path: dir }),
      rawDuckDb,
      sqlJs,
      toIpc,
      extra: { 'native DuckDB (@duckdb/node-api)': nativeDuckDb },
      refreshStats: (v) => v.caller.call('sql', 'refreshStats', []),
      log: (msg) => console.log(`  ${msg}`),
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
