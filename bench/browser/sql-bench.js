// Browser SQL benchmark (issue 12), run in headless Chromium by scripts/bench.mjs: the built package
// (DuckDB in the vault's worker) on OPFS, side by side with raw duckdb-wasm (its async API, its own
// worker) on the same Arrow data and sql.js on the page. The measurements are in bench/lib/sql-suite.mjs.
import * as duckdb from '@duckdb/duckdb-wasm'
import { tableFromArrays, tableToIPC } from 'apache-arrow'
import initSqlJs from 'sql.js'
import { runSqlSuite } from '../lib/sql-suite.mjs'

const labvault = await import(/* @vite-ignore */ new URL('/dist/browser/labvault.js', location.href).href)
const { openVault, deleteVault } = labvault
const assetBase = new URL('/dist/browser/', location.href).href
const duckDist = new URL('/node_modules/@duckdb/duckdb-wasm/dist/', location.href).href

function toIpc(rows) {
  const cols = Object.fromEntries(Object.keys(rows[0]).map((k) => [k, rows.map((r) => r[k])]))
  return tableToIPC(tableFromArrays({ ...cols, fold: Int32Array.from(cols.fold), n_samples: Int32Array.from(cols.n_samples), val_score: Float64Array.from(cols.val_score), test_score: Float64Array.from(cols.test_score), duration_ms: Float64Array.from(cols.duration_ms) }), 'stream')
}

async function rawDuckDb(ipc) {
  const worker = new Worker(`${duckDist}duckdb-browser-eh.worker.js`)
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker)
  await db.instantiate(`${duckDist}duckdb-eh.wasm`)
  await db.open({ path: ':memory:' })
  const conn = await db.connect()
  await conn.query('SET autoload_known_extensions=false; SET autoinstall_known_extensions=false')
  await conn.insertArrowFromIPCStream(ipc, { name: 'predictions', create: true })
  return {
    query: async (sql) => (await conn.query(sql)).toArray(),
    close: async () => {
      await conn.close()
      await db.terminate()
    },
  }
}

async function sqlJs(rows) {
  const SQL = await initSqlJs({ locateFile: () => `${assetBase}sql-wasm.wasm` })
  const db = new SQL.Database()
  db.exec('CREATE TABLE predictions (pipeline TEXT, model_class TEXT, dataset TEXT, fold INTEGER, val_score REAL, test_score REAL, n_samples INTEGER, duration_ms REAL)')
  db.exec('BEGIN')
  const ins = db.prepare('INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  for (const r of rows) ins.run([r.pipeline, r.model_class, r.dataset, r.fold, r.val_score, r.test_score, r.n_samples, r.duration_ms])
  ins.free()
  db.exec('COMMIT')
  return { query: async (sql) => db.exec(sql), close: () => db.close() }
}

export function runBrowserSqlBench(log) {
  return runSqlSuite({
    environment: 'chromium',
    open: (name) => openVault(name, { storage: 'opfs', assetBase }),
    remove: (name) => deleteVault(name, { storage: 'opfs' }),
    rawDuckDb,
    sqlJs,
    toIpc,
    refreshStats: (v) => v.caller.call('sql', 'refreshStats', []),
    log,
  })
}
