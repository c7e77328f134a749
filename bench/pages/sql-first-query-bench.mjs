// First vault.sql in a fresh page (issue 12): DuckDB's download (cold: a new persistent profile for
// each run, so nothing is in the HTTP or code cache), its start, and the relation refresh, on a
// vault with a 1k-row record list. Driven from Node by scripts/bench.mjs; pages load the built
// package (dist-test/harness.html). Reports the median of RUNS runs and where the time went.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { median } from '../lib/stats.mjs'
import { summary } from '../lib/workloads.mjs'

const RUNS = 3
const NAME = 'bench-sql-first'

export async function runSqlFirstQueryBench(launch, base, log = () => {}) {
  const totals = []
  const phases = { total: [], importJs: [], wasm: [], open: [], refresh: [] }
  for (let run = 0; run < RUNS; run++) {
    const profile = mkdtempSync(join(tmpdir(), 'labvault-bench-sqlfirst-'))
    const context = await launch(profile)
    try {
      let page = await context.newPage()
      await page.goto(`${base}/dist-test/harness.html`)
      await page.waitForFunction(() => window.harnessReady === true)
      await page.evaluate(async (name) => {
        const v = await window.labvault.openVault(name, { storage: 'opfs' })
        const l = await v.lists.create('predictions', { type: 'record', fields: ['model', 'fold', 'score'] })
        await l.appendMany(Array.from({ length: 1000 }, (_, i) => ({ model: `m${i % 7}`, fold: i % 5, score: i / 1000 })))
        await v.close()
      }, NAME)
      await page.close()
      // A fresh page (and worker): what a user's reload costs on first use of SQL.
      page = await context.newPage()
      await page.goto(`${base}/dist-test/harness.html`)
      await page.waitForFunction(() => window.harnessReady === true)
      const r = await page.evaluate(async (name) => {
        const v = await window.labvault.openVault(name, { storage: 'opfs' })
        const t = performance.now()
        const table = await v.sql('SELECT model, avg(score) AS s, count(*) FILTER (WHERE fold = 0) AS f0 FROM items.predictions GROUP BY 1 ORDER BY 1')
        const ms = performance.now() - t
        const stats = await v.caller.call('sql', 'refreshStats', [])
        await v.close()
        return { ms, rows: table.numRows, stats }
      }, NAME)
      if (r.rows !== 7) throw new Error(`the query gave ${r.rows} rows, expected 7`)
      totals.push(r.ms)
      for (const k of ['total', 'importJs', 'wasm', 'open']) phases[k].push(r.stats.start?.[k] ?? NaN)
      phases.refresh.push(r.stats.ms)
      log(`sql first query: run ${run + 1}: ${r.ms.toFixed(0)} ms (${JSON.stringify(r.stats.start)}, refresh ${r.stats.ms.toFixed(0)} ms)`)
    } finally {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
  const m = median(totals)
  const results = {
    'first vault.sql in a fresh page, fresh profile (download + compile + start + 1k-row refresh), ms': summary(totals),
    '  of which: DuckDB start in the engine (cache file included), ms': summary(phases.total),
    '    of which: importing DuckDB JS, ms': summary(phases.importJs),
    '    of which: wasm fetch + compile + instantiate, ms': summary(phases.wasm),
    '    of which: DuckDB open (database, connection), ms': summary(phases.open),
    '  of which: relation refresh, ms': summary(phases.refresh),
  }
  return { environment: 'chromium', results, checks: [{ figure: 'Chromium: first vault.sql in a fresh page, fresh profile (median), ms', value: m, bar: '< 1500', pass: m < 1500 }] }
}
