import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { InvalidArgumentError } from '../../src/errors/errors.js'
import { loadSqlJs } from '../../src/sqlite/sqlite-database.js'

// sql.js keeps its first initialisation's promise for good, a failed one too; labvault fetches and
// compiles the wasm itself so that a failed load (a 503, a network error) is tried again by the
// next open (src/sqlite/sqlite-database.ts, loadSqlJs). sql.js initialises once per realm: this
// file is its own process, and its one case starts with a failure. The same through a browser
// worker and the page thread: test/browser/minified.spec.ts ("a wasm that failed to load…").

const wasm = readFileSync(createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm'))

test('a wasm load that failed (503, then the connection refused) is tried again by the next load, which works', async () => {
  let requests = 0
  const server = createServer((_req, res) => {
    requests++
    if (requests === 1) {
      res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>deploy in progress</h1>')
      return
    }
    res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sql-wasm.wasm`
  try {
    const first = await loadSqlJs({ wasmUrl: url }).then(
      () => undefined,
      (err: unknown) => err,
    )
    assert.ok(first instanceof InvalidArgumentError, `the failed load names the option: ${String(first)}`)
    assert.match((first as Error).message, /wasmUrl.*503/)
    // A refused connection (a network error): also not kept.
    const refused = await loadSqlJs({ wasmUrl: 'http://127.0.0.1:1/sql-wasm.wasm' }).then(
      () => undefined,
      (err: unknown) => err,
    )
    assert.ok(refused instanceof InvalidArgumentError, String(refused))
    const SQL = await loadSqlJs({ wasmUrl: url })
    const db = new SQL.Database()
    assert.deepEqual(db.exec('select 6 * 7 as answer')[0]!.values, [[42]])
    db.close()
    assert.equal(requests, 2, 'fetched once more, not served from a kept failure')
    assert.equal(await loadSqlJs({ wasmUrl: url }), SQL, 'once loaded, kept')
  } finally {
    server.close()
  }
})
