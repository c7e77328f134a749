import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { openVault, type Column, type Vault } from '../../src/node.js'
import { encodeManifest, decodeManifest } from '../../src/persistence/manifest.js'
import { MANIFEST_SLOTS } from '../../src/persistence/format.js'
import { agreesWithArray } from '../conformance/columns-conformance.js'
import { tempDir } from './helpers.js'

// Column behaviour through the public API is checked by test/conformance/columns-conformance.ts (run
// on memory and fs by vault-conformance.test.ts, and in Chromium). What stays here needs Node: longer
// random edit runs under relaxed durability, the 10M-element run, and checks of files on disk.

const dir = tempDir()
let counter = 0
async function fresh(durability: 'strict' | 'relaxed' = 'strict'): Promise<Vault> {
  return openVault(`col${++counter}`, { storage: 'fs', path: dir, durability })
}
async function reopen(v: Vault): Promise<Vault> {
  await v.close()
  return openVault(v.name, { storage: 'fs', path: dir })
}

describe('columns: relaxed durability', () => {
  test('fixed size, tiny chunks: 400 random edits agree with an array, also after reopen', async () => {
    let v = await fresh('relaxed')
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 4, maxChunkBytes: 12 })
    const ref = await agreesWithArray(c as unknown as Column, (r) => Math.floor(r() * 1e6), 1, 400)
    v = await reopen(v)
    assert.deepEqual(Array.from(await (await v.columns.get('c')).slice()), ref)
    await v.close()
  })

  test('variable size, tiny chunks: 400 edits that shrink, keep or grow leave every neighbour intact', async () => {
    let v = await fresh('relaxed')
    const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 8, maxChunkBytes: 32 })
    const ref = await agreesWithArray(c as unknown as Column, (r) => 'é'.repeat(Math.floor(r() * 4)) + 'x'.repeat(Math.floor(r() * 40)), 2, 400)
    v = await reopen(v)
    assert.deepEqual(await (await v.columns.get('c')).slice(), ref)
    await v.close()
  })
})

describe('columns: scale', () => {
  test('10M f64: extend, read back whole and in slices, reopen', async () => {
    let v = await fresh()
    const c = await v.columns.create('big', 'f64')
    const data = new Float64Array(10_000_000)
    for (let i = 0; i < data.length; i++) data[i] = i * 0.5
    await c.extend(data)
    assert.equal(await c.length(), 10_000_000)
    const back = await c.slice()
    assert.equal(back.length, data.length)
    assert.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(data.buffer)))
    assert.deepEqual(Array.from(await c.slice(4_194_300, 4_194_310)), Array.from(data.subarray(4_194_300, 4_194_310)))
    await c.set(-1, -1)
    v = await reopen(v)
    const c2 = await v.columns.get<'f64'>('big')
    assert.equal(await c2.get(9_999_999), -1)
    assert.equal(await c2.get(1234567), 1234567 * 0.5)
    const again = await c2.slice(0, 5_000_000)
    assert.ok(Buffer.from(again.buffer, again.byteOffset, again.byteLength).equals(Buffer.from(data.buffer, 0, 40_000_000)))
    await v.close()
  })
})

describe('columns: files on disk', () => {
  test('an element update logs only the changed bytes, not its chunk', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 200 * 1024, maxChunkBytes: 200 * 1024 })
    await c.extend(new Int32Array(40_000)) // one inline chunk of 160 KB
    const logBytes = () => readdirSync(join(dir, v.name)).filter((f) => f.endsWith('.log')).reduce((n, f) => n + statSync(join(dir, v.name, f)).size, 0)
    const before = logBytes()
    for (let i = 0; i < 20; i++) await c.set(i * 1000, i)
    await c.append(7)
    await c.insert(100, 5)
    await c.delete(200)
    await c.setSlice(300, 310, new Int32Array(10))
    const grown = logBytes() - before
    assert.ok(grown < 20_000, `log grew ${grown} bytes for 23 element changes`)
    await v.close()
  })

  test('a checkpoint keeps the blobs of live chunks and drops replaced ones', async () => {
    let v = await fresh()
    const c = await v.columns.create('c', 'f64', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    await c.extend(Float64Array.from({ length: 32_768 * 3 }, (_, i) => i))
    const blobFiles = () => readdirSync(join(dir, v.name, 'blobs'), { recursive: true }).filter((f) => String(f).length > 40).length
    assert.equal(blobFiles(), 3)
    await c.setSlice(5, 2_005, new Float64Array(2_000).fill(-5)) // past the patch threshold: chunk 0 is rewritten as a new blob
    assert.equal(blobFiles(), 4)
    await v.checkpoint()
    assert.equal(blobFiles(), 3)
    v = await reopen(v)
    const again = await v.columns.get<'f64'>('c')
    assert.equal(await again.get(2_004), -5)
    assert.equal(await again.get(2_005), 2_005)
    assert.equal(await again.get(-1), 32_768 * 3 - 1)
    await v.columns.delete('c')
    await v.checkpoint()
    assert.equal(blobFiles(), 0)
    await v.close()
  })
})

describe('columns: element patches on disk', () => {
  const blobFiles = (v: Vault) => readdirSync(join(dir, v.name, 'blobs'), { recursive: true }).filter((f) => String(f).length > 40).length
  const logBytes = (v: Vault) => readdirSync(join(dir, v.name)).filter((f) => f.endsWith('.log')).reduce((n, f) => n + statSync(join(dir, v.name, f)).size, 0)

  test('an edit inside a blob chunk writes no blob and logs only the element; the 1025th patched element folds the chunk', async () => {
    let v = await fresh()
    const c = await v.columns.create('c', 'f64', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    await c.extend(Float64Array.from({ length: 32_768 * 2 }, (_, i) => i)) // two full blob chunks
    assert.equal(blobFiles(v), 2)
    const before = logBytes(v)
    for (let k = 0; k < 1024; k++) await c.set(k * 30, -1 - k)
    assert.equal(blobFiles(v), 2, 'patches write no blob')
    const grown = logBytes(v) - before
    assert.ok(grown < 1024 * 300, `log grew ${grown} bytes for 1024 element edits`)
    await c.set(31_000, 0.5) // the 1025th patched element of chunk 0: folded into a new blob
    assert.equal(blobFiles(v), 3)
    await c.set(1, 1.5) // a patch again, on the new blob
    assert.equal(blobFiles(v), 3)
    await v.checkpoint()
    assert.equal(blobFiles(v), 2, 'the replaced blob is collected')
    v = await reopen(v)
    const back = await (await v.columns.get<'f64'>('c')).slice()
    const ref = Float64Array.from({ length: 32_768 * 2 }, (_, i) => i)
    for (let k = 0; k < 1024; k++) ref[k * 30] = -1 - k
    ref[31_000] = 0.5
    ref[1] = 1.5
    assert.deepEqual(Array.from(back), Array.from(ref))
    await v.close()
  })

  test('a vault of format version 1 gets whole-chunk rewrites until a checkpoint makes it the current version (3)', async () => {
    let v = await fresh()
    const c = await v.columns.create('c', 'f64', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    await c.extend(Float64Array.from({ length: 32_768 * 2 }, (_, i) => i))
    await v.close()
    // As a build before patches left it: both manifest slots and the log header say version 1.
    const folder = join(dir, v.name)
    for (const slot of MANIFEST_SLOTS) {
      const m = decodeManifest(readFileSync(join(folder, slot)))!
      writeFileSync(join(folder, slot), encodeManifest({ ...m, formatVersion: 1 }))
    }
    for (const f of readdirSync(folder).filter((n) => n.endsWith('.log'))) {
      const bytes = readFileSync(join(folder, f))
      bytes.writeUInt32LE(1, 8)
      writeFileSync(join(folder, f), bytes)
    }
    v = await openVault(v.name, { storage: 'fs', path: dir })
    assert.equal((await v.info()).formatVersion, 1)
    const old = await v.columns.get<'f64'>('c')
    await old.set(7, -7)
    assert.equal(blobFiles(v), 3, 'a version-1 generation never holds patches: the chunk is rewritten')
    await v.checkpoint()
    assert.equal(decodeManifest(readFileSync(join(folder, MANIFEST_SLOTS[0])))!.formatVersion, 3)
    assert.equal((await v.info()).formatVersion, 3)
    const files = blobFiles(v)
    await old.set(8, -8)
    assert.equal(blobFiles(v), files, 'version 2: a patch')
    v = await reopen(v)
    assert.deepEqual(Array.from(await (await v.columns.get<'f64'>('c')).slice(6, 10)), [6, -7, -8, 9])
    await v.close()
  })
})
