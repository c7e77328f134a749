/**
 * The write cache under real kills (docs/columns.md, "Write-back cache"): a child process
 * (fixtures/column-cache-writer.ts) appends 0, 1, 2, … to an i64 column in `withCache` blocks whose
 * buffers are written during the block and when it returns, and reports what each returned block
 * acknowledged; the parent kills it with SIGKILL at a random moment (often inside a flush), opens
 * the vault and checks that the column is 0, 1, …, m − 1 with m at least what was acknowledged: no
 * acknowledged value lost, none written twice or out of order, the vault opens. Rounds continue on
 * the same vault, in shared and exclusive mode, strict and relaxed (on Node a relaxed write is in
 * the file when it resolves). COLUMN_CACHE_KILL_ROUNDS (default 6) and
 * COLUMN_CACHE_KILL_SEED replay a run.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { childCommand } from '../support/child-command.js'
import { tempDir } from './helpers.js'

const ROUNDS = Number(process.env.COLUMN_CACHE_KILL_ROUNDS ?? 6)
const SEED = Number(process.env.COLUMN_CACHE_KILL_SEED ?? Math.floor(Math.random() * 1_000_000))
const WRITER = fileURLToPath(new URL('./fixtures/column-cache-writer.ts', import.meta.url))

test(`SIGKILL a process appending through withCache at ${ROUNDS} random moments: every acknowledged value survives, in order, once (seed ${SEED})`, { timeout: 120_000 }, async () => {
  const dir = tempDir('labvault-column-cache-kill-')
  const rng = mulberry32(SEED)
  const setup = await openVault('cache-kill', { storage: 'fs', path: dir })
  // Small chunks, so flushes cross chunk boundaries, and blob chunks at 256 KiB.
  await setup.columns.create('n', 'i64', { minChunkBytes: 4096, maxChunkBytes: 256 * 1024 })
  await setup.close()
  const command = await childCommand(WRITER)
  let length = 0
  let acked = 0
  for (let round = 0; round < ROUNDS; round++) {
    const sharing = round % 2 === 0 ? 'shared' : 'exclusive'
    const durability = round % 4 < 2 ? 'relaxed' : 'strict'
    const proc = spawn(process.execPath, [...command, dir, String(length), sharing, durability], { stdio: ['ignore', 'pipe', 'pipe'] })
    let mustHave = length
    let stderr = ''
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<void>((r) => proc.once('exit', () => r()))
    const firstAck = new Promise<void>((resolve) => {
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (!line.startsWith('ack ')) return
        mustHave = Number(line.slice(4))
        acked++
        resolve()
      })
    })
    await Promise.race([firstAck, exited])
    await new Promise((r) => setTimeout(r, rng() * 600))
    proc.kill('SIGKILL')
    await exited
    assert.equal(stderr.trim(), '', `round ${round}: the child wrote to stderr`)
    const v = await openVault('cache-kill', { storage: 'fs', path: dir })
    try {
      assert.deepEqual(await v.integrityCheck(), ['ok'], `round ${round}: integrity check`)
      const got = await (await v.columns.get<'i64'>('n')).slice()
      assert.ok(got.length >= mustHave, `round ${round} (seed ${SEED}, ${sharing}, ${durability}): ${got.length} values, but ${mustHave} were acknowledged`)
      const wrong = got.findIndex((x, i) => x !== BigInt(i))
      assert.equal(wrong, -1, `round ${round} (seed ${SEED}, ${sharing}, ${durability}): value ${wrong} is ${got[wrong]}`)
      length = got.length
    } finally {
      await v.close()
    }
  }
  assert.ok(acked >= ROUNDS, `every child acknowledged blocks (${acked} in all)`)
  console.log(`column cache kill test (seed ${SEED}): ${ROUNDS} rounds, ${acked} acknowledged blocks, ${length} values`)
})
