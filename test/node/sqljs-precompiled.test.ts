import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { loadSqlJs } from '../../src/sqlite/sqlite-database.js'

// The engine's worker compiles sql.js's wasm before the engine's code has loaded
// (src/worker/worker-boot.ts) and hands the module to sql.js (SqlJsLocation.wasmModule). sql.js
// initialises once per realm, so this file holds one case; the other (the compile failed, sql.js
// loads wasmUrl itself and a wrong one is InvalidArgumentError naming it) runs in a browser worker:
// test/browser/minified.spec.ts, "a wrong wasmUrl is InvalidArgumentError…".

const wasmFile = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm')
// A URL where no wasm is: sql.js can succeed only with the module handed to it.
const nowhere = pathToFileURL('/no-such-folder/sql-wasm.wasm').href

test('a compiled module is instantiated as it is: no fetch of wasmUrl', async () => {
  const module = WebAssembly.compile(readFileSync(wasmFile))
  const SQL = await loadSqlJs({ wasmUrl: nowhere, wasmModule: module })
  const db = new SQL.Database()
  assert.deepEqual(db.exec('select 6 * 7 as answer')[0]!.values, [[42]])
  db.close()
})
