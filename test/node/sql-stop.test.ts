import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { StoppedError, openVault } from '../../src/node.js'

// timeoutMs and signal were looked at only while DuckDB ran a query: once its result was
// materialised, fetching its batches and converting them ran unchecked (a 3M-row result with
// timeoutMs 300 resolved after ~2.5 s).

/** A query DuckDB answers at once whose result takes seconds to fetch. */
const LARGE = "SELECT range AS a FROM range(3000000)"

describe('stopping a query while its result is fetched', () => {
  test('timeoutMs stops a large result being fetched', async () => {
    const v = await openVault('sql-stop-fetch', { storage: 'memory' })
    try {
      await v.sql('SELECT 1 AS x')
      // How long the whole result takes here (DuckDB's run is a small part; fetching and converting
      // 3M rows the most). A quarter of it (the faster of two runs) stops the query while its result is fetched: the old code
      // looked at timeoutMs and signal only during the run, so both calls below resolved.
      let whole = Infinity
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now()
        assert.equal((await v.sql(LARGE)).numRows, 3_000_000)
        whole = Math.min(whole, performance.now() - t0)
      }
      const stopAt = Math.max(50, Math.round(whole / 4))
      await assert.rejects(v.sql(LARGE, { timeoutMs: stopAt }), StoppedError)
      // (A signal is looked at in the same places, but a timer that would abort it cannot fire here
      // while the thread converts the rows on Node, where DuckDB runs in this thread: a test of it
      // would depend on where the timer falls.)
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
