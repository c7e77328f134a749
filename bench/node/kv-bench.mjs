// Node key-value benchmark: labvault (fs adapter, built package) side by side with better-sqlite3.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { openVault } from '../../dist/node/node.js'
import { latencies, rng, smallEntries, timeRuns } from '../lib/stats.mjs'

const require = createRequire(import.meta.url)
const Database = require('better-sqlite3')

export default async function runNodeKvBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-'))
  const results = {}
  const entries = smallEntries(100_000)
  try {
    // --- labvault
    let n = 0
    results['labvault setMany 100k (strict)'] = await timeRuns(async () => {
      const v = await openVault(`bulk${n++}`, { path: dir })
      await v.kv().setMany(entries)
      await v.close()
    }, { runs: 5, warmup: 1 })
    const v = await openVault('lat', { path: dir })
    const kv = v.kv()
    await kv.setMany(entries)
    results['labvault set (strict), 1000 awaited'] = await latencies(1000, (i) => kv.set(`s${i}`, { i }))
    const r = rng(1)
    results['labvault get random, 1000 awaited'] = await latencies(1000, () => kv.get(`k${Math.floor(r() * 100_000)}`))
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${i * 10}`)
    results['labvault getMany 10k'] = await timeRuns(() => kv.getMany(keys))
    await v.close()
    const rv = await timeRuns(async () => {
      const again = await openVault('lat', { path: dir })
      await again.kv().get('k500')
      await again.close()
    })
    results['labvault reopen 100k-key vault + get'] = rv
    const relaxed = await openVault('relaxed', { path: dir, durability: 'relaxed' })
    results['labvault set (relaxed), 1000 awaited'] = await latencies(1000, (i) => relaxed.kv().set(`s${i}`, { i }))
    await relaxed.close()

    // --- better-sqlite3 (the same rows: key TEXT PRIMARY KEY, value BLOB of the JSON)
    const encode = (o) => JSON.stringify(o)
    let m = 0
    results['better-sqlite3 100k in one transaction'] = await timeRuns(() => {
      const db = new Database(join(dir, `b${m++}.db`))
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID')
      const ins = db.prepare('INSERT OR REPLACE INTO kv VALUES (?, ?)')
      db.transaction(() => {
        for (const [k, val] of entries) ins.run(k, encode(val))
      })()
      db.close()
    }, { runs: 5, warmup: 1 })
    const db = new Database(join(dir, 'blat.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID')
    const ins = db.prepare('INSERT OR REPLACE INTO kv VALUES (?, ?)')
    db.transaction(() => {
      for (const [k, val] of entries) ins.run(k, encode(val))
    })()
    results['better-sqlite3 insert (synchronous=FULL), 1000 awaited'] = await latencies(1000, (i) => ins.run(`s${i}`, encode({ i })))
    const sel = db.prepare('SELECT value FROM kv WHERE key = ?')
    const r2 = rng(1)
    results['better-sqlite3 get random, 1000'] = await latencies(1000, () => JSON.parse(sel.get(`k${Math.floor(r2() * 100_000)}`).value))
    db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const ratio = (a, b) => results[a].median / results[b].median
  const checks = [
    { figure: 'bulk write within 3× of better-sqlite3', value: ratio('labvault setMany 100k (strict)', 'better-sqlite3 100k in one transaction'), bar: '≤ 3', pass: ratio('labvault setMany 100k (strict)', 'better-sqlite3 100k in one transaction') <= 3 },
    { figure: 'one strict set under 1 ms (median)', value: results['labvault set (strict), 1000 awaited'].median, bar: '< 1 ms', pass: results['labvault set (strict), 1000 awaited'].median < 1 },
  ]
  return { environment: 'node', results, checks }
}
