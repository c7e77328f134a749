import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { StoppedError, openVault } from '../../src/node.js'

// timeoutMs and signal were looked at only while DuckDB ran a query: once its result was
// materialised, fetching its batches and converting them ran unchecked (a 3M-row result with
// timeoutMs 300 resolved after ~2.5 s).

/** A query DuckDB answers at once whose result takes seconds to fetch. */
const LARGE = "SELECT range AS a FROM range(3000000)"

describe('stopping a query while its result is fetched', () => {
  test('timeoutMs and signal stop a large result being fetched', async () => {
    const v = await openVault('sql-stop-fetch', { storage: 'memory' })
    try {
      await v.sql('SELECT 1 AS x')
      let t0 = performance.now()
      await assert.rejects(v.sql(LARGE, { timeoutMs: 300 }), StoppedError)
      const timedOut = performance.now() - t0
      assert.ok(timedOut < 300 + 1500, `stopped ${Math.round(timedOut)} ms after the call`)
      const ac = new AbortController()
      t0 = performance.now()
      const running = v.sql(LARGE, { signal: ac.signal })
      setTimeout(() => ac.abort(), 300)
      await assert.rejects(running, StoppedError)
      const aborted = performance.now() - t0
      assert.ok(aborted < 300 + 1500, `stopped ${Math.round(aborted)} ms after the call`)
      // The connection is usable after a result was dropped half-fetched.
      const [row] = (await v.sql('SELECT 2 AS x, count(*) AS n FROM range(10)')).toArray()
      assert.deepEqual({ ...row!.toJSON() }, { x: 2, n: 10 })
      // A large result within its timeout still arrives whole.
      assert.equal((await v.sql('SELECT range AS a FROM range(300000)', { timeoutMs: 60_000 })).numRows, 300_000)
    } finally {
      await v.close()
    }
  })
})
