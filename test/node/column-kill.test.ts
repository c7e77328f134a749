/**
 * Column element edits under real kills (issue 10, "Column edits stay cheap"): a child process
 * (fixtures/column-edit-writer.ts) edits elements of a blob-backed f64 column (element patches,
 * folds past the threshold, checkpoints) and reports each acknowledged edit; the parent kills it
 * with SIGKILL at a random moment, opens the vault and checks that the column is exactly the column
 * after the first n edits, for some n covering every acknowledged one. Rounds continue on the same
 * vault. COLUMN_KILL_ROUNDS (default 6) and COLUMN_KILL_SEED replay a run.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { openVault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { childCommand } from '../support/child-command.js'
import { COLUMN_KILL_CHUNKS, COLUMN_KILL_LENGTH, COLUMN_KILL_VAULT, columnEdit } from './fixtures/column-edit-plan.js'
import { tempDir } from './helpers.js'

const ROUNDS = Number(process.env.COLUMN_KILL_ROUNDS ?? 6)
const SEED = Number(process.env.COLUMN_KILL_SEED ?? Math.floor(Math.random() * 1_000_000))
const WRITER = fileURLToPath(new URL('./fixtures/column-edit-writer.ts', import.meta.url))

function applyEdit(state: Float64Array, i: number): void {
  const e = columnEdit(i)
  state.fill(e.value, e.at, e.at + e.count)
}

test(`SIGKILL a process editing a blob-backed column at ${ROUNDS} random moments: every acknowledged edit survives, and a vault open all along reads the same (seed ${SEED})`, { timeout: 120_000 }, async () => {
  const dir = tempDir('labvault-column-kill-')
  const rng = mulberry32(SEED)
  const state = Float64Array.from({ length: COLUMN_KILL_LENGTH }, (_, i) => i)
  const setup = await openVault(COLUMN_KILL_VAULT, { storage: 'fs', path: dir })
  await (await setup.columns.create('c', 'f64', COLUMN_KILL_CHUNKS)).extend(state)
  await setup.close()
  const command = await childCommand(WRITER)
  let done = 0
  let acked = 0
  // Open in this process all along, its directory, patches and chunk bytes in memory: after each
  // round it must read what a fresh open reads (it catches up with the child's commits).
  const watcher = await openVault(COLUMN_KILL_VAULT, { storage: 'fs', path: dir })
  after(() => watcher.close())
  const watched = await watcher.columns.get<'f64'>('c')
  for (let round = 0; round < ROUNDS; round++) {
    await watched.slice()
    const proc = spawn(process.execPath, [...command, dir, String(done)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const acks: number[] = []
    let stderr = ''
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<void>((r) => proc.once('exit', () => r()))
    // Killed 0-300 ms after its first acknowledged edit: in patches, folds or checkpoints.
    const firstAck = new Promise<void>((resolve) => {
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (line.startsWith('ack ')) {
          acks.push(Number(line.slice(4)))
          resolve()
        }
      })
    })
    await Promise.race([firstAck, exited])
    await new Promise((r) => setTimeout(r, rng() * 300))
    proc.kill('SIGKILL')
    await exited
    assert.equal(stderr.trim(), '', `round ${round}: the child wrote to stderr`)
    acked += acks.length
    const mustHave = acks.length > 0 ? acks[acks.length - 1]! + 1 : done
    const v = await openVault(COLUMN_KILL_VAULT, { storage: 'fs', path: dir })
    try {
      assert.deepEqual(await v.integrityCheck(), ['ok'], `round ${round}: integrity check`)
      const got = await (await v.columns.get<'f64'>('c')).slice()
      for (let n = done; n < mustHave; n++) applyEdit(state, n)
      let n = mustHave
      // At most a few edits past the last acknowledged one can have been durable when it died.
      const same = () => Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(state.buffer))
      while (!same() && n < mustHave + 3) applyEdit(state, n++)
      assert.ok(same(), `round ${round} (seed ${SEED}): the column matches no prefix of the edits holding the ${acks.length} acknowledged ones (up to ${mustHave - 1})`)
      const seen = await watched.slice()
      assert.ok(Buffer.from(seen.buffer, seen.byteOffset, seen.byteLength).equals(Buffer.from(got.buffer, got.byteOffset, got.byteLength)), `round ${round}: the vault open all along reads what a fresh open reads`)
      done = n
    } finally {
      await v.close()
    }
  }
  assert.ok(acked >= ROUNDS, `every child acknowledged edits (${acked} in all)`)
  console.log(`column kill test (seed ${SEED}): ${ROUNDS} rounds, ${acked} acknowledged edits, ${done} in the column`)
})
