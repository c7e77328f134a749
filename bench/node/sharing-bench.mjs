// Several Node processes writing one vault (issue 5): small awaited commits from 1 process vs 4
// processes at once, through the lock file + catch-up protocol (src/sharing), and the cost of the
// shared mode against `sharing: 'exclusive'` in one process. Uses the built package (dist/node).
// The browser figures of the issue (forwarded call, leader failover) are measured by
// test/browser/sharing.spec.ts, not here.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { openVault } from '../../dist/node/node.js'
import { latencies, median } from '../lib/stats.mjs'

const CHILD = fileURLToPath(new URL('./sharing-bench-child.mjs', import.meta.url))
const PER_PROCESS = 500

function child(dir, name, id) {
  const proc = spawn(process.execPath, [CHILD, dir, name, String(PER_PROCESS), String(id)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: proc.stdout })
  const waiters = []
  lines.on('line', (l) => waiters.shift()?.(l))
  const next = () => new Promise((r) => waiters.push(r))
  return { proc, next, exited: new Promise((r) => proc.on('exit', r)) }
}

/** Commits per second of `n` processes writing PER_PROCESS awaited small commits each, at once. */
async function concurrent(dir, name, n) {
  const kids = Array.from({ length: n }, (_, i) => child(dir, name, i))
  await Promise.all(kids.map((k) => k.next()))
  const t = performance.now()
  const done = kids.map((k) => k.next())
  for (const k of kids) k.proc.stdin.write('go\n')
  await Promise.all(done)
  const wall = performance.now() - t
  await Promise.all(kids.map((k) => k.exited))
  return (n * PER_PROCESS) / (wall / 1000)
}

export default async function runSharingBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-sharing-bench-'))
  const results = {}
  try {
    const shared = await openVault('one', { path: dir })
    results['1 process, shared mode: set (strict), 1000 awaited'] = await latencies(1000, (i) => shared.kv().set(`s${i}`, { i }))
    results['1 process, shared mode: get, 1000 awaited'] = await latencies(1000, (i) => shared.kv().get(`s${i}`))
    await shared.close()
    const excl = await openVault('excl', { path: dir, sharing: 'exclusive' })
    results['1 process, exclusive mode: set (strict), 1000 awaited'] = await latencies(1000, (i) => excl.kv().set(`s${i}`, { i }))
    results['1 process, exclusive mode: get, 1000 awaited'] = await latencies(1000, (i) => excl.kv().get(`s${i}`))
    await excl.close()

    const ones = []
    const fours = []
    for (let run = 0; run < 3; run++) {
      ones.push(await concurrent(dir, `c1-${run}`, 1))
      fours.push(await concurrent(dir, `c4-${run}`, 4))
    }
    results['1 process alone: small commits per second'] = { median: median(ones), runs: ones.map(Math.round) }
    results['4 processes at once: total small commits per second'] = { median: median(fours), runs: fours.map(Math.round) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const ratio = results['4 processes at once: total small commits per second'].median / results['1 process alone: small commits per second'].median
  const overhead = results['1 process, shared mode: set (strict), 1000 awaited'].median - results['1 process, exclusive mode: set (strict), 1000 awaited'].median
  return {
    environment: 'node',
    results,
    checks: [
      { figure: '4 Node processes writing small commits: total throughput vs one process alone', value: Math.round(ratio * 100) / 100, bar: '≥ 0.5', pass: ratio >= 0.5 },
      { figure: 'shared-mode overhead of one strict set vs exclusive (ms, median)', value: Math.round(overhead * 1000) / 1000, bar: '≤ 0.1 ms', pass: overhead <= 0.1 },
    ],
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(await runSharingBench(), null, 2))
