/**
 * The experiment store under real kills (issue 11): a child (fixtures/store-child.ts) churns on a
 * vault on disk (saves runs of 20 predictions with arrays, deletes some, deletes runs, compacts)
 * and the parent SIGKILLs it shortly after it began the focused operation: a savePrediction batch
 * with arrays, a deleteRun, or a compaction. After each kill the parent opens the vault and checks:
 * it opens and SQLite's integrity check is clean; every live prediction has its arrays, with the
 * values written, and no array row is live without its prediction; every acknowledged save and
 * delete is there; the operation in flight happened entirely or not at all (nirs4all's
 * test_delete_ordering_crash, impossible here by construction: one commit holds it all).
 * The vault carries over from round to round, so later kills land on a grown, compacted store.
 *
 * STORE_KILL_ROUNDS (default 2 per operation) and STORE_KILL_SEED replay a run.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { NotFoundError, openVault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { arraysOf } from './fixtures/store-plan.js'
import { tempDir } from './helpers.js'

const ROUNDS = Number(process.env.STORE_KILL_ROUNDS ?? 2)
const SEED = Number(process.env.STORE_KILL_SEED ?? Math.floor(Math.random() * 1_000_000))
const CHILD = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url))
const NAME = 'store-crash'

type Event = { event: string; op?: string; runId?: string; ids?: string[] }

/** Run a churning child until it began `focus` `times` times, then SIGKILL it after `delayMs`. */
async function killDuring(dir: string, focus: string, times: number, delayMs: number): Promise<Event[]> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ dir, name: NAME, action: 'churn', focus })], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const events: Event[] = []
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    let begun = 0
    const timer = setTimeout(() => reject(new Error(`the child never began ${focus}; stderr: ${stderr.slice(-2000)}`)), 60_000)
    exited.then(() => reject(new Error(`the child exited; stderr: ${stderr.slice(-2000)}`)))
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as Event
      events.push(e)
      if (e.event === 'begin' && e.op === focus && ++begun === times) {
        clearTimeout(timer)
        setTimeout(() => {
          proc.kill('SIGKILL')
          resolve()
        }, delayMs)
      }
    })
  })
  await exited
  return events
}

/** What the parent knows from the acks of every round so far. */
interface Known {
  /** Saves acknowledged: run id → prediction ids. */
  saved: Map<string, string[]>
  /** Runs whose deleteRun was acknowledged. */
  deleted: Set<string>
}

async function verify(dir: string, known: Known, events: Event[], label: string): Promise<void> {
  const v = await openVault(NAME, { storage: 'fs', path: dir })
  try {
    assert.deepEqual(await v.integrityCheck(), ['ok'], `${label}: integrity`)
    const s = v.store
    const preds = (await s.queryPredictions({})).toArray().map((r) => ({ id: r.predictionId as string, runId: r.runId as string, foldId: r.foldId as string }))
    const arrays = await s.arrays.load(preds.map((p) => p.id))
    assert.equal(arrays.size, preds.length, `${label}: every live prediction has its arrays`)
    for (const p of preds) {
      const want = arraysOf(Number(p.foldId.slice(1)))
      const got = arrays.get(p.id)!
      assert.deepEqual([got.yTrue, got.yPred, got.sampleIndices], [want.yTrue, want.yPred, want.sampleIndices], `${label}: the arrays of ${p.foldId}`)
    }
    assert.equal((await s.arrays.stats()).rows, preds.length, `${label}: no live arrays without a prediction`)
    const byRun = new Map<string, number>()
    for (const p of preds) byRun.set(p.runId, (byRun.get(p.runId) ?? 0) + 1)
    // The operation in flight: all or nothing.
    const at = events.map((e) => e.event).lastIndexOf('begin')
    const last = events[at]!
    const acked = events.slice(at + 1).some((e) => e.event === 'ack' && e.op === last.op)
    console.log(`${label}: killed ${acked ? 'after' : 'during'} ${last.op}`)
    if (last.op === 'save' && !acked) {
      assert.ok([0, 20].includes(byRun.get(last.runId!) ?? 0), `${label}: a save in flight is all or nothing (${byRun.get(last.runId!) ?? 0} of 20)`)
    }
    if (last.op === 'deleteRun' && !acked) {
      const present = await s.getRun(last.runId!).then(() => true, () => false)
      const pipelines = (await s.listPipelines({ runId: last.runId! })).numRows
      if (present) {
        assert.equal(pipelines, 1, `${label}: a deleteRun that did not happen left the pipeline`)
        assert.ok((known.saved.get(last.runId!) ?? []).slice(5).every((id) => preds.some((p) => p.id === id)), `${label}: and every prediction`)
      } else {
        assert.equal(pipelines, 0, `${label}: a deleteRun that happened took the pipelines`)
        assert.equal(byRun.get(last.runId!) ?? 0, 0, `${label}: and the predictions`)
        known.deleted.add(last.runId!)
      }
    }
    // Acknowledged saves: the 15 predictions the child did not delete are there (unless the run was deleted).
    for (const [runId, ids] of known.saved) {
      if (known.deleted.has(runId)) continue
      const live = new Set(preds.filter((p) => p.runId === runId).map((p) => p.id))
      for (const id of ids.slice(5)) assert.ok(live.has(id), `${label}: acknowledged prediction ${id} of run ${runId}`)
    }
    for (const runId of known.deleted) {
      await assert.rejects(s.getRun(runId), NotFoundError, `${label}: acknowledged deleteRun of ${runId}`)
      assert.equal(byRun.get(runId) ?? 0, 0, `${label}: no prediction of deleted run ${runId}`)
    }
    // The store works on: compaction keeps every live row.
    await s.arrays.compact()
    assert.equal((await s.arrays.load(preds.map((p) => p.id))).size, preds.length, `${label}: compaction after the crash keeps every row`)
  } finally {
    await v.close()
  }
}

test(`SIGKILL during savePredictions with arrays, deleteRun and compact: all or nothing (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const dir = tempDir('labvault-store-crash-')
  const rnd = mulberry32(SEED)
  const known: Known = { saved: new Map(), deleted: new Set() }
  for (let round = 0; round < ROUNDS; round++) {
    for (const focus of ['save', 'deleteRun', 'compact']) {
      // A deleteRun takes a few ms; saves and compactions longer.
      const delay = Math.floor(rnd() * (focus === 'deleteRun' ? 3 : 25))
      const events = await killDuring(dir, focus, 1 + Math.floor(rnd() * 2), delay)
      for (const e of events) {
        if (e.event === 'ack' && e.op === 'save') known.saved.set(e.runId!, e.ids!)
        if (e.event === 'ack' && e.op === 'deleteRun') known.deleted.add(e.runId!)
      }
      await verify(dir, known, events, `round ${round} ${focus} (kill after ${delay} ms)`)
    }
  }
})
