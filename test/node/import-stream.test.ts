// importVault writes a large blob as it inflates (docs/export-import.md, "Import", Memory): no
// single write holds it whole, every check still runs (size, SHA-256: a damaged or short blob is
// refused and nothing is left), a storage failing midway leaves nothing, and a replaced vault that
// holds the same blob stays intact. The bound is checked on what the importer hands its storage
// (an adapter recording its largest write), which cannot be flaky, unlike a memory reading.
//
// Budget: LABVAULT_PROP_RUNS rounds of the property (default 4, a few seconds). A failure prints
// its seed; LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { unzipSync, zipSync, type Zippable } from 'fflate'
import { CorruptionError, MemoryAdapter, NodeFsAdapter, exportVault, importVault, listVaults, openVault } from '../../src/node.js'
import { FaultInjectingAdapter, SimulatedCrash } from '../support/fault-adapter.js'
import { STREAM_FILE_BYTES } from '../../src/persistence/archive-reader.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 4)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0x5eed5723)
const MiB = 1024 * 1024
/** What one write may hold: far below the blob (the importer appends ~1 MiB pieces). */
const WRITE_BOUND = 4 * MiB

/** A NodeFsAdapter that records its largest write or append, and can fail its n-th append. */
class Recording extends NodeFsAdapter {
  largest = 0
  appends = 0
  failAppendAt: number | undefined
  override async write(path: string, data: Uint8Array): Promise<void> {
    this.largest = Math.max(this.largest, data.length)
    return super.write(path, data)
  }
  override async append(path: string, data: Uint8Array): Promise<number> {
    this.largest = Math.max(this.largest, data.length)
    if (++this.appends === this.failAppendAt) throw new Error('no space left on device (simulated)')
    return super.append(path, data)
  }
}

/** Incompressible bytes (a seeded PRNG), so deflate cannot shrink the blob below the bound. */
function noise(size: number, seed: number): Uint8Array {
  const rand = mulberry32(seed)
  const out = new Uint8Array(size)
  const words = new Uint32Array(out.buffer, 0, size >>> 2)
  for (let i = 0; i < words.length; i++) words[i] = (rand() * 2 ** 32) >>> 0
  for (let i = words.length * 4; i < size; i++) out[i] = (rand() * 256) | 0
  return out
}

/** An archive of a vault holding `big` (a blob) and a small value. */
async function archiveOf(big: Uint8Array, level: 0 | 1): Promise<Uint8Array> {
  const root = tempDir()
  const v = await openVault('src', { path: root })
  await v.kv().set('big', big)
  await v.kv().set('small', { ok: true })
  await v.close()
  return exportVault('src', { path: root, level })
}

/** The archive with one blob's bytes replaced (its zip CRC made to match; the header's SHA-256 and size kept). */
function withBlob(archive: Uint8Array, change: (bytes: Uint8Array) => Uint8Array): Uint8Array {
  const all = unzipSync(archive)
  const z: Zippable = {}
  for (const [name, bytes] of Object.entries(all)) z[name] = [name.startsWith('blobs/') && bytes.length > STREAM_FILE_BYTES ? change(bytes) : bytes, { level: 0 }]
  return zipSync(z)
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
}

let big: Uint8Array
let archive: Uint8Array

test.before(async () => {
  big = noise(STREAM_FILE_BYTES + 3 * MiB + 17, 7)
  archive = await archiveOf(big, 1)
})

test('a blob over 16 MiB is written as it inflates: no write holds more than a few MiB, and it reads back equal', async () => {
  const root = tempDir()
  const storage = new Recording(root)
  await importVault('copy', archive, { storage })
  await storage.close()
  assert.ok(storage.largest <= WRITE_BOUND, `largest write ${storage.largest} bytes (the blob is ${big.length})`)
  assert.ok(storage.appends > 10, `the blob went out in pieces (${storage.appends} appends)`)
  const v = await openVault('copy', { path: root, create: false })
  try {
    assert.deepEqual(await v.kv().get('big'), big)
    assert.deepEqual(await v.kv().get('small'), { ok: true })
  } finally {
    await v.close()
  }
})

test('a streamed blob that fails its SHA-256 or is shorter than its header says is refused (CorruptionError), nothing left', async () => {
  const flipped = withBlob(archive, (b) => {
    const c = b.slice()
    c[c.length - 5]! ^= 1 // the last piece: the whole blob was written before the check fails
    return c
  })
  const short = withBlob(archive, (b) => b.subarray(0, b.length - 1000))
  for (const [what, bad, message] of [
    ['a flipped byte', flipped, /fails its SHA-256/],
    ['a short blob', short, /holds \d+ bytes, its header says/],
  ] as const) {
    const root = tempDir()
    const storage = new Recording(root)
    await assert.rejects(importVault('bad', bad, { storage }), (e) => e instanceof CorruptionError && message.test((e as Error).message), what)
    await storage.close()
    assert.deepEqual(filesUnder(join(root, 'bad')), [], `${what}: nothing left`)
    assert.deepEqual(await listVaults({ path: root }), [], what)
  }
})

test('storage failing in the middle of a streamed blob: the import rejects and removes the part written', async () => {
  const root = tempDir()
  const storage = new Recording(root)
  storage.failAppendAt = 5
  await assert.rejects(importVault('torn', archive, { storage }), /no space left/)
  await storage.close()
  assert.deepEqual(filesUnder(join(root, 'torn')), [])
})

test('replace: a large blob the replaced vault holds too is kept intact when the import fails, and right when it succeeds', async () => {
  const root = tempDir()
  await importVault('lab', archive, { path: root })
  const damaged = withBlob(archive, (b) => {
    const c = b.slice()
    c[100]! ^= 1
    return c
  })
  // The blob's file exists (the old vault's): the entry is held whole, never appended to that file.
  await assert.rejects(importVault('lab', damaged, { path: root, replace: true }), (e) => e instanceof CorruptionError)
  let v = await openVault('lab', { path: root, create: false })
  assert.deepEqual(await v.kv().get('big'), big, 'the old vault is intact')
  await v.close()
  await importVault('lab', archive, { path: root, replace: true })
  v = await openVault('lab', { path: root, create: false })
  assert.deepEqual(await v.kv().get('big'), big)
  await v.close()
})

test('property: any blob size around the threshold, any level, any way the archive arrives: equal, and bounded writes (seeded)', { timeout: 300_000 }, async () => {
  for (let r = 0; r < RUNS; r++) {
    const seed = (SEED + r * 0x9e3779b1) >>> 0
    try {
      const rand = mulberry32(seed)
      // Just below, at and above the threshold, and a few MiB over it (odd sizes: partial pieces).
      const size = [STREAM_FILE_BYTES - 1, STREAM_FILE_BYTES, STREAM_FILE_BYTES + 1, STREAM_FILE_BYTES + Math.floor(rand() * 5 * MiB)][Math.floor(rand() * 4)]!
      const blob = noise(size, seed)
      const level = rand() < 0.5 ? 0 : 1
      const bytes = await archiveOf(blob, level)
      // Chunks of random sizes, from a few bytes to several MiB, as a stream would hand them.
      const chunks = (async function* () {
        for (let at = 0; at < bytes.length; ) {
          const n = rand() < 0.3 ? 1 + Math.floor(rand() * 4096) : 1 + Math.floor(rand() * 6 * MiB)
          yield bytes.slice(at, at + n)
          at += n
        }
      })()
      const root = tempDir()
      const storage = new Recording(root)
      await importVault('copy', chunks, { storage })
      await storage.close()
      const bound = size > STREAM_FILE_BYTES ? WRITE_BOUND : size
      assert.ok(storage.largest <= bound, `size ${size}, level ${level}: largest write ${storage.largest}`)
      const v = await openVault('copy', { path: root, create: false })
      try {
        assert.deepEqual(await v.kv().get('big'), blob)
      } finally {
        await v.close()
      }
    } catch (err) {
      throw new Error(`round failed; replay: LABVAULT_PROP_SEED=${seed} LABVAULT_PROP_RUNS=1 node --import tsx --test test/node/import-stream.test.ts\n${(err as Error).stack ?? err}`)
    }
  }
})

test('crashed at any step of a replacing import that streams a blob: the vault opens as the old one or the new one, whole (seeded)', { timeout: 300_000 }, async () => {
  const newBig = noise(STREAM_FILE_BYTES + MiB + 3, 11)
  const oldBig = noise(STREAM_FILE_BYTES + 2 * MiB + 1, 12)
  const make = async (storage: MemoryAdapter, which: string, bytes: Uint8Array) => {
    const v = await openVault('lab', { storage })
    await v.kv().setMany([['which', which], ['big', bytes]])
    await v.close()
  }
  const source = new MemoryAdapter()
  await make(source, 'new', newBig)
  const next = await exportVault('lab', { storage: source, level: 1 })
  // How many mutating calls a whole import makes (the crash points to draw from).
  const count = new FaultInjectingAdapter(new MemoryAdapter(), { seed: 1 })
  await make(count.inner as MemoryAdapter, 'old', oldBig)
  await importVault('lab', next, { storage: count, replace: true })
  const steps = count.mutations
  assert.ok(steps > 20, `the blob is appended in pieces (${steps} mutating calls)`)
  for (let r = 0; r < RUNS + 2; r++) {
    const seed = (SEED + r * 0x9e3779b1) >>> 0
    const crashAt = 1 + (seed % steps)
    const inner = new MemoryAdapter()
    await make(inner, 'old', oldBig)
    const storage = new FaultInjectingAdapter(inner, { seed, crashAt })
    // A crash after the commit point (removing the old generation's files) is the import's to
    // swallow: it stands. Before it, the call rejects.
    await importVault('lab', next, { storage, replace: true }).catch((e: unknown) => assert.ok(e instanceof SimulatedCrash, String(e)))
    assert.ok(storage.hasCrashed, `crash at ${crashAt}`)
    const survived = await storage.afterCrash()
    const v = await openVault('lab', { storage: survived, create: false })
    try {
      const which = await v.kv().get('which')
      assert.deepEqual(await v.kv().get('big'), which === 'old' ? oldBig : newBig, `seed ${seed}, crash at ${crashAt} of ${steps}: ${String(which)} is whole`)
    } finally {
      await v.close()
    }
  }
})
