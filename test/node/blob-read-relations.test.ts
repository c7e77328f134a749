/**
 * Readers that load several blobs one after another after reading the rows that name them: the SQL
 * relations (kv values over 256 KiB, typed columns' blob chunks, versioned tables' columns) and the
 * store's compaction. A checkpoint while the first blob loads, after a later call dropped the rows,
 * must collect none of the others under the reader (it did: CorruptionError "blob … is missing").
 * The interleaving is forced as in blob-read-collect.test.ts: blob reads wait at a gate while the
 * rows are dropped and the vault checkpointed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { openVault } from '../../src/node.js'
import { startEventChild } from '../support/child-events.js'
import { GatedBlobReads, GatedFsBlobReads, patterned, until } from '../support/gated-blob-reads.js'
import { arraysOf } from './fixtures/store-plan.js'
import { tempDir } from './helpers.js'

const CHILD = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url))
const DROP_COLUMN = fileURLToPath(new URL('./fixtures/drop-column-child.ts', import.meta.url))

test('sql: the kv, columns and tables relations load every blob their rows named though the rows are dropped and checkpointed meanwhile', async () => {
  const storage = new GatedBlobReads()
  const name = 'blob-relations-sql'
  const v = await openVault(name, { storage })
  try {
    await v.sql('SELECT 1') // DuckDB started once (the relations are made before the rows are written)

    /** Run `query` with blob reads held; once the first waits, `drop` the rows it reads and checkpoint. */
    const duringDrop = async (label: string, query: string, drop: () => Promise<unknown>): Promise<unknown[]> => {
      storage.holdBlobReads()
      const reading = v.sql(query)
      await until(() => storage.waiting >= 1)
      await drop()
      await v.checkpoint()
      storage.releaseBlobReads()
      const rows = (await reading).toArray().map((r) => Object.values(r.toJSON() as Record<string, unknown>)[0])
      await v.checkpoint()
      assert.equal(await storage.blobCount(name), 0, `${label}: the blobs go at the next checkpoint`)
      return rows
    }

    // Strings, not bytes: the kv relation reads a value's blob for its JSON text (raw bytes have
    // none, and their size is asked for without a read).
    const sizes = [300 * 1024, 400 * 1024, 500 * 1024]
    await v.kv().setMany(sizes.map((size, i) => [`k${i}`, String.fromCharCode(97 + i).repeat(size)]))
    const kv = await duringDrop('kv', 'SELECT length(value) FROM kv ORDER BY key', () => v.kv().clear())
    assert.deepEqual(kv.map(Number), sizes.map((size) => size + 2), 'kv: every large value (as JSON text, quoted), not only the first one loading')

    // A column of 2^20 doubles: several full chunks of 256 KiB or more, each a blob.
    const values = Float64Array.from({ length: 1 << 20 }, (_, i) => i * 0.5)
    await (await v.columns.create('loss', 'f64')).extend(values)
    const sum = await duringDrop('columns', 'SELECT sum(value) FROM col.loss', () => v.columns.delete('loss'))
    assert.equal(Number(sum[0]), values.reduce((a, b) => a + b, 0), 'columns: every chunk of the column')

    await v.tables.create('people')
    await v.tables.write('people', [{ name: 'ada', age: 36 }, { name: 'bo', age: 7 }], { dtypes: { name: 'str:utf8', age: 'i32' } })
    const people = await duringDrop('tables', 'SELECT name || age FROM tables.people ORDER BY name', () => v.tables.delete('people'))
    assert.deepEqual(people, ['ada36', 'bo7'], 'tables: every column of the instance')
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})

test("store: a compaction loading a dataset's segments, while another process compacts it and a checkpoint runs, loses none", async () => {
  const dir = tempDir('labvault-blob-relations-')
  const name = 'blob-relations-store'
  const storage = new GatedFsBlobReads(dir)
  const v = await openVault(name, { storage })
  try {
    const s = v.store
    const runId = await s.beginRun('r', {}, [{ name: 'wheat' }])
    const pipelineId = await s.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
    const chainId = await s.saveChain(pipelineId, { steps: [], modelStepIdx: null, modelClass: 'PLS' })
    const save = (from: number) =>
      s.savePredictions(Array.from({ length: 3 }, (_, i) => ({
        pipelineId, chainId, datasetName: 'wheat', modelName: 'pls', modelClass: 'PLS', foldId: `k${from + i}`, partition: 'val', valScore: i, arrays: arraysOf(from + i),
      })))
    // Two segments (one per save), and a tombstone: compaction has work.
    const ids = [...(await save(0)), ...(await save(3))]
    await s.deletePrediction(ids[0]!)
    const live = ids.slice(1)
    assert.equal((await s.arrays.stats()).segments, 2)

    storage.holdBlobReads()
    const compacting = s.arrays.compact()
    await until(() => storage.waiting >= 1)
    // Another process compacts the same dataset (its reads are not held) and commits first: the
    // segments this compaction read are no longer referenced, and the checkpoint may collect them.
    const other = startEventChild(CHILD, { dir, name, action: 'compact' }, { timeoutMs: 60_000 })
    await other.next('done')
    await v.checkpoint()
    storage.releaseBlobReads()
    await compacting // redone from the other's result (nothing left to do), not CorruptionError

    const arrays = await s.arrays.load(live)
    assert.deepEqual(live.map((id) => arrays.get(id)?.yTrue), live.map((_, i) => arraysOf(i + 1).yTrue), 'every live prediction keeps its arrays')
    assert.equal((await s.arrays.stats()).segments, 1)
    await v.checkpoint()
    assert.equal(await storage.blobCount(name), 1, 'only the compacted segment is left')
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})

test("tables: an execution reading another table's instance while it is deleted and checkpointed computes from every column it read", async () => {
  const storage = new GatedBlobReads()
  const name = 'blob-relations-tables'
  const setup = await openVault(name, { storage })
  let instanceId: string
  try {
    await setup.code.create('m', 'export const sums = ({ a, b }) => a.map((x, i) => ({ k: x, s: x + b[i] }))\n')
    await setup.tables.create('src')
    instanceId = (await setup.tables.write('src', [{ a: 1, b: 10 }, { a: 2, b: 20 }], { dtypes: { a: 'i32', b: 'i32' } })).instanceId!
    await setup.tables.create('dst')
    await setup.tables.createInstance('dst')
    await setup.tables.builders.create('dst', 'dst_index', {
      kind: 'index', changedColumns: ['k', 's'], primaryKey: ['k'], returnType: 'rows', function: { module: 'm', export: 'sums' },
      arguments: { a: '<<src.a>>', b: '<<src.b>>' }, dtypes: { k: 'i32', s: 'i32' },
    })
  } finally {
    await setup.close()
  }
  // Reopened: the engine's caches do not hold the columns just written, the execution reads the blobs.
  const v = await openVault(name, { storage })
  try {
    storage.holdBlobReads()
    const executing = v.tables.execute('dst')
    await until(() => storage.waiting >= 1) // loading src's first column
    await v.tables.deleteInstance('src', instanceId)
    await v.checkpoint()
    storage.releaseBlobReads()
    // Both columns load (pinned since their rows were read): the execution computes from the
    // instance as it read it, not CorruptionError ("blob … is missing").
    await executing
    const { table } = await v.tables.get('dst')
    assert.deepEqual(table.toArray().map((r) => [r.k, r.s]), [[1, 11], [2, 22]])
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})

test('columns: a write planned over several blob chunks while another process deletes the column and a checkpoint runs meets the column gone', async () => {
  const dir = tempDir('labvault-blob-relations-')
  const name = 'blob-relations-columns'
  const storage = new GatedFsBlobReads(dir)
  const setup = await openVault(name, { storage })
  try {
    await (await setup.columns.create('c', 'f64')).extend(Float64Array.from({ length: 1 << 20 }, (_, i) => i))
  } finally {
    await setup.close()
  }
  // Reopened: the engine's chunk cache does not hold the chunks just written, the plan reads the blobs.
  const v = await openVault(name, { storage })
  try {
    const c = await v.columns.get('c')
    storage.holdBlobReads()
    const writing = c.setSlice(100_000, 900_000, new Float64Array(800_000).fill(-1))
    await until(() => storage.waiting >= 1) // the plan loads the first chunk it rewrites
    const other = startEventChild(DROP_COLUMN, { dir, name, column: 'c' }, { timeoutMs: 60_000 })
    assert.equal((await other.next('done')).deleted, true)
    await v.checkpoint()
    storage.releaseBlobReads()
    // Planned again from the column as it is now: gone (not CorruptionError, "blob … is missing").
    await assert.rejects(writing, (err: Error) => err.name === 'NotFoundError')
    assert.deepEqual(await v.columns.list(), [])
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})
