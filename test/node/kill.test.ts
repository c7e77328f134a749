/**
 * Real kills (issue 2, item 7): a child process (fixtures/kill-writer.ts) writes to a vault on disk
 * (storage 'fs', fdatasync per commit) and reports every acknowledged write on stdout; the parent
 * kills it with SIGKILL at a random moment, then opens the vault, runs SQLite's integrity check and
 * checks that the state is exactly the state after the first n writes of the sequence, for some n
 * that covers every acknowledged write (nothing acknowledged lost, nothing half-applied, no
 * reordering). The next round continues on the same vault, so it grows across rounds and
 * checkpoints (automatic and explicit ones) run all the time; kills land in writes, in checkpoints
 * and in the child's own recovery at open.
 *
 * Start-up cost: a child run through tsx needs ~1.8 s before it can write (tsx compiles the sources
 * each time), so the writer is bundled once with esbuild (~0.2 s; falls back to tsx when esbuild
 * cannot be loaded), which brings a child to ~0.5 s; and children are started two rounds ahead and
 * warm up (load everything, open an in-memory vault) while the current round runs; a child opens the
 * real vault only when told `go`. Opening the vault then takes the child ~0.1-0.3 s (image load and
 * log replay), so most kills are timed from its `open` line; some from `go`, to land in recovery.
 *
 * KILL_ROUNDS (default 100) sets the rounds; KILL_SEED replays the kill moments of a run.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { childCommand } from '../support/child-command.js'
import { KILL_CHECKPOINT_BYTES, KILL_VAULT, killWrite } from './fixtures/kill-plan.js'
import { tempDir } from './helpers.js'

const ROUNDS = Number(process.env.KILL_ROUNDS ?? 100)
const SEED = Number(process.env.KILL_SEED ?? Math.floor(Math.random() * 1_000_000))
const WRITER = fileURLToPath(new URL('./fixtures/kill-writer.ts', import.meta.url))
/** Kill at most this long after the child opened the vault. */
const MAX_KILL_DELAY_MS = 200
/** Children started ahead of their round. */
const WARM_AHEAD = 2

interface Child {
  proc: ChildProcess
  ready: Promise<void>
  exited: Promise<void>
  /** Indexes of acknowledged writes, in order. */
  acks: number[]
  /** The last protocol line seen: tells whether the kill landed in open, a write or a checkpoint. */
  last: string
  /** Resolves when the child printed `open`. */
  opened: Promise<void>
  stderr: string
}

function startChild(command: string[], dir: string): Child {
  const proc = spawn(process.execPath, [...command, dir], { stdio: ['pipe', 'pipe', 'pipe'] })
  let opened!: () => void
  const child: Child = { proc, ready: undefined!, exited: undefined!, acks: [], last: '', stderr: '', opened: new Promise((r) => (opened = r)) }
  proc.stderr!.on('data', (d: Buffer) => (child.stderr += d.toString()))
  child.exited = new Promise((resolve) => proc.once('exit', () => resolve()))
  child.ready = new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! })
    lines.on('line', (line) => {
      child.last = line
      if (line === 'ready') resolve()
      else if (line === 'open') opened()
      else if (line.startsWith('ack ')) child.acks.push(Number(line.slice(4)))
    })
    void child.exited.then(() => reject(new Error(`kill-writer exited before it was ready: ${child.stderr}`)))
  })
  child.ready.catch(() => {})
  return child
}

type State = Map<string, unknown>

function apply(state: State, i: number): void {
  const w = killWrite(i)
  if (w.kind === 'set') state.set(w.key, w.value)
  else {
    state.set('pair-a', w.value)
    state.set('pair-b', w.value)
  }
}

function same(a: State, b: State): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (b.get(k) !== v) return false
  return true
}

test(`SIGKILL a writing process at ${ROUNDS} random moments: every acknowledged write survives (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const dir = tempDir('labvault-kill-')
  const rng = mulberry32(SEED)
  const started = performance.now()
  /** The vault's state after the first `done` writes of the sequence (what the last check found). */
  let state: State = new Map()
  let done = 0
  const stats = { killedBeforeOpen: 0, killedInCheckpoint: 0, killedInWrites: 0, acked: 0, unackedFound: 0, tornTailDropped: 0, maxSizeBytes: 0 }
  const command = await childCommand(WRITER)
  const warm: Child[] = []
  for (let i = 0; i < WARM_AHEAD; i++) warm.push(startChild(command, dir))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const child = warm.shift()!
      await child.ready
      // Warm the following children while this round runs.
      if (round + WARM_AHEAD < ROUNDS) warm.push(startChild(command, dir))
      child.proc.stdin!.write(`go ${done}\n`)
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
      // Mostly while writing; sometimes timed from `go`, so that it lands in the child's recovery.
      if (rng() < 0.15) await sleep(rng() * 250)
      else await Promise.race([child.opened.then(() => sleep(rng() * MAX_KILL_DELAY_MS)), child.exited])
      child.proc.kill('SIGKILL')
      await child.exited
      const where = child.last
      if (child.stderr.trim()) console.error(`round ${round}: the child wrote to stderr: ${child.stderr}`)
      if (where === 'ready') stats.killedBeforeOpen++
      else if (where.startsWith('cp ')) stats.killedInCheckpoint++
      else stats.killedInWrites++
      const acked = child.acks
      stats.acked += acked.length
      if (acked.length > 0) assert.equal(acked[0], done, 'the child starts where the last check ended')
      const mustHave = acked.length > 0 ? acked[acked.length - 1]! + 1 : done

      const vault = await openVault(KILL_VAULT, { storage: 'fs', path: dir, checkpointBytes: KILL_CHECKPOINT_BYTES })
      try {
        assert.deepEqual(await vault.integrityCheck(), ['ok'], `round ${round}: integrity check`)
        const info = await vault.info()
        if (info.recovery.droppedBytes > 0) stats.tornTailDropped++
        stats.maxSizeBytes = Math.max(stats.maxSizeBytes, info.sizeBytes)
        const got: State = new Map()
        for (const [k, v] of await vault.kv().entries()) got.set(k as string, v)
        // Find n ≥ every acknowledged write with got == state after writes [0, n).
        const candidate = new Map(state)
        for (let n = done; n < mustHave; n++) apply(candidate, n)
        let n = mustHave
        const limit = mustHave + 100_000
        while (!same(got, candidate) && n < limit) apply(candidate, n++)
        if (n >= limit) {
          const show = (s: State) => [...s].map(([k, v]) => `${k}=${String(v).slice(0, 6)}`).sort().join(' ')
          assert.fail(`round ${round} (seed ${SEED}): the vault matches no prefix of the writes holding the ${acked.length} acknowledged ones (up to ${mustHave - 1})\n got: ${show(got)}`)
        }
        if (n > mustHave) stats.unackedFound++
        state = candidate
        done = n
      } finally {
        await vault.close()
      }
    }
  } finally {
    for (const c of warm) c.proc.kill('SIGKILL')
    await Promise.all(warm.map((c) => c.exited))
  }
  const seconds = (performance.now() - started) / 1000
  console.log(`kill test (seed ${SEED}): ${ROUNDS} rounds, ${done} writes in the vault, in ${seconds.toFixed(1)} s; ${JSON.stringify(stats)}`)
  assert.ok(stats.acked > ROUNDS, 'the children acknowledged writes')
  assert.ok(stats.killedInWrites > ROUNDS / 4, 'most kills land while writing')
})
