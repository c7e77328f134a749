/**
 * A damaged blob fails only the SQL relation built from it. Before, one kv value, vector segment
 * or column chunk whose blob no longer matched its hash made every `vault.sql` query fail, even
 * `SELECT 1`, until the data changed. Now the relation built from it raises CorruptionError naming
 * it, every other query runs, and once the damaged data is gone (the key deleted, the column
 * rewritten) the relation is made again at the next query.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CorruptionError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

/** Every blob file of vault `name` in `dir`. */
function blobFiles(dir: string, name: string): Set<string> {
  const root = join(dir, name, 'blobs')
  const out = new Set<string>()
  if (!existsSync(root)) return out
  for (const prefix of readdirSync(root)) for (const f of readdirSync(join(root, prefix))) out.add(join(root, prefix, f))
  return out
}

/** Run `write` and return the blob files it added (at least one). */
async function blobsOf(dir: string, name: string, write: () => Promise<unknown>): Promise<string[]> {
  const before = blobFiles(dir, name)
  await write()
  const added = [...blobFiles(dir, name)].filter((f) => !before.has(f))
  assert.ok(added.length > 0, 'the write made a blob')
  return added
}

/** Flip one byte of a file: it no longer matches its hash. */
function damage(file: string): void {
  const bytes = readFileSync(file)
  bytes[100] ^= 0xff
  writeFileSync(file, bytes)
}

const count = async (v: Vault, relation: string) => Number((await v.sql(`SELECT count(*) AS n FROM ${relation}`)).toArray()[0]!.toJSON().n)

const corrupt = (relation: RegExp) => (err: unknown) => {
  assert.ok(err instanceof CorruptionError, `${(err as Error).name}: ${(err as Error).message}`)
  assert.match(err.message, relation)
  assert.match(err.message, /does not match its hash/)
  return true
}

test('a damaged kv value, vector segment or column chunk fails its relation alone; the others and SELECT 1 run', async () => {
  const dir = tempDir()
  let v = await openVault('lab', { path: dir })
  const kvBlobs = await blobsOf(dir, 'lab', () => v.kv().set('big', { text: 'x'.repeat(300 * 1024) }))
  await v.kv().set('small', 1)
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['alpha ', 'beta'])
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 64 })
  const vecBlobs = await blobsOf(dir, 'lab', () => emb.appendMatrix(new Float32Array(64 * 512).fill(0.5)))
  const loss = await v.columns.create('loss', 'f64')
  const colBlobs = await blobsOf(dir, 'lab', () => loss.extend(new Float64Array(200_000).fill(1.5)))
  await v.close()
  for (const f of [...kvBlobs, ...vecBlobs, ...colBlobs]) damage(f)

  v = await openVault('lab', { path: dir })
  try {
    assert.equal(Number((await v.sql('SELECT 1 AS x')).toArray()[0]!.toJSON().x), 1)
    assert.equal(await count(v, 'items.docs'), 2)
    assert.equal(await count(v, 'lists'), 2)
    await assert.rejects(v.sql('SELECT key FROM kv'), corrupt(/relation "kv" could not be made/))
    await assert.rejects(v.sql('SELECT count(*) FROM items.emb'), corrupt(/relation items\."emb" could not be made/))
    await assert.rejects(v.sql('SELECT sum(value) FROM col.loss'), corrupt(/relation col\."loss" could not be made/))
    // Still failing at the next query (its data is still damaged), still alone.
    await assert.rejects(v.sql('SELECT * FROM kv'), CorruptionError)
    assert.equal(await count(v, 'items.docs'), 2)
    // The damaged data goes: the relations are made again.
    await v.kv().delete('big')
    assert.deepEqual((await v.sql('SELECT key FROM kv')).toArray().map((r) => r.toJSON().key), ['small'])
    await v.columns.delete('loss')
    const again = await v.columns.create('loss', 'f64')
    await again.extend(new Float64Array([1, 2]))
    assert.equal(Number((await v.sql('SELECT sum(value) AS s FROM col.loss')).toArray()[0]!.toJSON().s), 3)
    await v.lists.delete('emb')
    assert.equal(await count(v, 'lists'), 1)
  } finally {
    await v.close()
  }
})
