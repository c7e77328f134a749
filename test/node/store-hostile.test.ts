// The experiment store against a careless or hostile caller (probes of the store's engine): a batch
// that saves one natural key under two datasets, whole numbers beyond what the Arrow results carry
// (int32), and a dataset named "__proto__" in a report keyed by dataset. Each case failed before its fix.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, type PredictionInput, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { scaffold, vaultsOnDisk } from '../support/store-vaults.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { openVaultEngine } from '../../src/domains/registry.js'
import { inProcessPort } from '../../src/client/in-process-port.js'
import { Vault as VaultHandle } from '../../src/client/vault.js'
import type { SqliteDatabase } from '../../src/sqlite/sqlite-database.js'

const dir = tempDir('labvault-store-hostile-')
/** A vault on disk (so it can be reopened: replayed from its log) and a function reopening it. */
const onDisk = vaultsOnDisk(dir, 'hostile')

test('one natural key twice in a batch under two datasets: the later record wins, arrays too (also after reopen)', async () => {
  const [v, reopen] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const base = { pipelineId, chainId, modelName: 'm', modelClass: 'M', partition: 'val' }
  // d2 comes first in the batch (another key), so its segment was recorded before d1's, whose
  // tombstoning then buried the later record's arrays under the earlier one's.
  const ids = await v.store.savePredictions([
    { ...base, foldId: 'other', datasetName: 'd2', arrays: { yTrue: [9] } },
    { ...base, foldId: 'k', datasetName: 'd1', arrays: { yTrue: [1] } },
    { ...base, foldId: 'k', datasetName: 'd2', arrays: { yTrue: [2] } },
  ])
  assert.equal(ids[1], ids[2], 'one prediction per natural key')
  const check = async (w: Vault) => {
    const p = await w.store.getPrediction(ids[2]!, { arrays: true })
    assert.equal(p.datasetName, 'd2')
    assert.deepEqual(p.arrays?.yTrue, Float64Array.from([2]), 'the later record\'s arrays')
    const stats = await w.store.arrays.stats()
    assert.equal(stats.rows, 2, 'one live array row per prediction with arrays')
    assert.deepEqual(await w.store.arrays.datasets(), ['d2'])
  }
  await check(v)
  await v.close()
  const again = await reopen()
  await check(again)
  await again.close()
})

test('whole numbers that Arrow results carry as int32 are refused out of its range, and nothing is written', async () => {
  const [v] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const base: PredictionInput = { pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId: 'f', partition: 'val' }
  for (const [field, value] of [['nSamples', 3_000_000_000], ['nFeatures', 2 ** 40], ['exclusionCount', -3e9], ['branchId', 2 ** 31]] as const) {
    await assert.rejects(v.store.savePrediction({ ...base, [field]: value }), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(field) && /int32/.test(e.message), field)
  }
  assert.equal((await v.store.queryPredictions({ pipelineId })).numRows, 0, 'nothing saved')
  await assert.rejects(v.store.saveChain(pipelineId, { steps: [], modelStepIdx: 2 ** 31, modelClass: 'M' }), (e: Error) => e instanceof InvalidArgumentError && /modelStepIdx/.test(e.message))
  await assert.rejects(v.store.saveChain(pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'M', sourceIndex: -(2 ** 31) - 1 }), (e: Error) => e instanceof InvalidArgumentError && /sourceIndex/.test(e.message))
  assert.equal((await v.store.chainsForPipeline(pipelineId)).numRows, 1, 'no chain added')
  // The extremes of int32 are kept and read back equal, in the object and in the Arrow table.
  const id = await v.store.savePrediction({ ...base, nSamples: 2147483647, nFeatures: -2147483648, exclusionCount: 0, branchId: -1 })
  const row = (await v.store.queryPredictions({ pipelineId })).get(0)!
  const got = await v.store.getPrediction(id)
  for (const [field, want] of [['nSamples', 2147483647], ['nFeatures', -2147483648], ['branchId', -1]] as const) {
    assert.equal(row[field], want, `${field} in Arrow`)
    assert.equal(got[field], want, `${field} in getPrediction`)
  }
  await v.close()
})

test('arrays.compact() reports a dataset named "__proto__" like any other', async () => {
  const [v] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const base = { pipelineId, chainId, modelName: 'm', modelClass: 'M', partition: 'val', datasetName: '__proto__' }
  await v.store.savePredictions([{ ...base, foldId: 'a', arrays: { yTrue: [1] } }])
  await v.store.savePredictions([{ ...base, foldId: 'b', arrays: { yTrue: [2] } }])
  const report = await v.store.arrays.compact()
  assert.deepEqual(Object.keys(report), ['__proto__'])
  assert.equal(Object.getPrototypeOf(report), Object.prototype, 'the report is a plain object')
  assert.equal(Object.getOwnPropertyDescriptor(report, '__proto__')?.value.rowsAfter, 2)
  await v.close()
})

test('a boolean option given as something else is refused and changes nothing (gcArtifacts({ dryRun: 1 }) removed the artifacts)', async () => {
  const [v] = await onDisk()
  const s = v.store
  const { runId, pipelineId, chainId } = await scaffold(v)
  const art = await s.saveArtifact(new TextEncoder().encode('model'), { operatorClass: 'M', artifactType: 'model', format: 'json' })
  const other = await s.beginRun('other')
  const p2 = await s.beginPipeline(other, { name: 'p', expandedConfig: {}, datasetName: 'd' })
  await s.saveChain(p2, { steps: [{ stepIdx: 0, operatorClass: 'M', artifactId: art }], modelStepIdx: 0, modelClass: 'M' })
  await s.deleteRun(other, { deleteArtifacts: false }) // the artifact is left at reference count 0
  assert.equal((await s.getArtifact(art)).refCount, 0)
  for (const dryRun of [1, 'true', 'yes', {}]) {
    await assert.rejects(s.gcArtifacts({ dryRun } as never), (e: Error) => e instanceof InvalidArgumentError && /dryRun/.test(e.message), String(dryRun))
  }
  assert.equal((await s.getArtifact(art)).artifactId, art, 'the artifact is still there')
  for (const deleteArtifacts of [0, 'no', 'false']) {
    await assert.rejects(s.deleteRun(runId, { deleteArtifacts } as never), (e: Error) => e instanceof InvalidArgumentError && /deleteArtifacts/.test(e.message), String(deleteArtifacts))
  }
  assert.equal((await s.getRun(runId)).runId, runId, 'the run is still there')
  assert.equal((await s.getChain(chainId)).chainId, chainId)
  const kept = await s.savePrediction({ pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId: 'g', partition: 'val', arrays: { yTrue: [2] } })
  await assert.rejects(s.getPrediction(kept, { arrays: 'yes' } as never), (e: Error) => e instanceof InvalidArgumentError && /arrays/.test(e.message))
  assert.deepEqual((await s.getPrediction(kept, { arrays: true })).arrays?.yTrue, Float64Array.from([2]))
  assert.equal((await s.gcArtifacts({ dryRun: true })).removed.length, 1)
  assert.equal((await s.gcArtifacts()).removed.length, 1)
  await v.close()
})

test('an upsert moving a prediction to another dataset with the same arrays: compacting the old dataset keeps them (also after reopen)', async () => {
  const [v, reopen] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const base = { pipelineId, chainId, modelName: 'm', modelClass: 'M', partition: 'val', foldId: 'f' }
  const id = await v.store.savePrediction({ ...base, datasetName: 'old', arrays: { yTrue: [1, 2] } })
  // The same rows made the same segment bytes, whose blob (named by their hash) stayed filed under
  // "old": compacting "old" then dropped the live row.
  await v.store.savePrediction({ ...base, datasetName: 'new', arrays: { yTrue: [1, 2] } })
  await v.store.arrays.compact()
  assert.deepEqual((await v.store.getPrediction(id, { arrays: true })).arrays?.yTrue, Float64Array.from([1, 2]))
  await v.close()
  const again = await reopen()
  assert.deepEqual((await again.store.getPrediction(id, { arrays: true })).arrays?.yTrue, Float64Array.from([1, 2]), 'after reopen')
  assert.deepEqual(await again.store.arrays.datasets(), ['new'])
  await again.close()
})

test('an upsert moving a prediction to another dataset without arrays: its stored arrays move along', async () => {
  const [v, reopen] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const base = { pipelineId, chainId, modelName: 'm', modelClass: 'M', partition: 'val', foldId: 'f' }
  const yProba = [[0.25, 0.75], [1, -0]]
  const id = await v.store.savePrediction({ ...base, datasetName: 'old', arrays: { yTrue: [1, 2], yProba, sampleIndices: [4, 5] } })
  await v.store.savePrediction({ ...base, datasetName: 'new', valScore: 1 })
  // And in one batch: the later record names the dataset, the earlier one gives the arrays.
  const [a, b] = await v.store.savePredictions([
    { ...base, foldId: 'g', datasetName: 'x', arrays: { yTrue: [7] } },
    { ...base, foldId: 'g', datasetName: 'y' },
  ])
  assert.equal(a, b)
  const check = async (w: Vault) => {
    const got = await w.store.arrays.load([id], { datasetName: 'new' })
    assert.deepEqual(got.get(id)?.yTrue, Float64Array.from([1, 2]), 'the arrays are under the prediction\'s dataset')
    assert.deepEqual(got.get(id)?.yProbaShape, [2, 2])
    assert.ok(Object.is(got.get(id)?.yProba?.[3], -0))
    assert.deepEqual(got.get(id)?.sampleIndices, Int32Array.from([4, 5]))
    assert.equal((await w.store.arrays.load([id], { datasetName: 'old' })).size, 0)
    assert.deepEqual((await w.store.arrays.load([a!], { datasetName: 'y' })).get(a!)?.yTrue, Float64Array.from([7]))
    assert.deepEqual(await w.store.arrays.datasets(), ['new', 'y'])
    assert.equal((await w.store.arrays.stats()).rows, 2)
  }
  await check(v)
  await v.store.arrays.compact()
  await check(v)
  await v.close()
  const again = await reopen()
  await check(again)
  await again.close()
})

test('an options object with an own "__proto__" member (JSON.parse makes one) is refused, not read through its prototype', async () => {
  const [v] = await onDisk()
  const s = v.store
  const { runId, pipelineId } = await scaffold(v)
  // In-process, the client's snapshot made the member its prototype, and the engine read the
  // pipeline's name and config through it; a worker's structured clone would have dropped them.
  await assert.rejects(s.beginPipeline(runId, JSON.parse('{"__proto__": {"name": "from-proto", "expandedConfig": {"a": 1}}, "datasetName": "d"}')), (e: Error) => e instanceof InvalidArgumentError && /__proto__/.test(e.message))
  await assert.rejects(s.completePipeline(pipelineId, JSON.parse('{"__proto__": {"bestVal": 1}}')), (e: Error) => e instanceof InvalidArgumentError)
  await assert.rejects(s.projects.create('p', JSON.parse('{"__proto__": {"description": "x"}}')), (e: Error) => e instanceof InvalidArgumentError)
  await assert.rejects(s.queryPredictions(Object.create({ datasetName: 'd' })), (e: Error) => e instanceof InvalidArgumentError)
  assert.equal((await s.listPipelines({ runId })).numRows, 1, 'no pipeline added')
  assert.equal((await s.getPipeline(pipelineId)).status, 'running', 'the pipeline unchanged')
  assert.deepEqual(await s.projects.list(), [])
  // A JSON value keeps its own "__proto__" member as data.
  const p2 = await s.beginPipeline(runId, { name: 'q', datasetName: 'd', expandedConfig: JSON.parse('{"__proto__": {"x": 1}}') })
  assert.deepEqual(Object.keys((await s.getPipeline(p2)).expandedConfig as object), ['__proto__'])
  await v.close()
})

test('two natural keys that differ only in where a NUL sits are two predictions in one batch, with or without arrays', async () => {
  const [v, reopen] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const base = { pipelineId, chainId, modelName: 'm', modelClass: 'M', datasetName: 'd' }
  for (const arrays of [undefined, { yTrue: [1] }]) {
    // The batch's own key was the fields joined by NUL: these two made one, and the batch failed (ConflictError).
    const ids = await v.store.savePredictions([{ ...base, foldId: 'a\u0000b', partition: 'c', valScore: 1, arrays }, { ...base, foldId: 'a', partition: 'b\u0000c', valScore: 2, arrays }])
    assert.notEqual(ids[0], ids[1])
  }
  await v.close()
  const again = await reopen()
  const rows = (await again.store.queryPredictions({ pipelineId })).toArray().map((r) => [r.foldId, r.partition, r.valScore])
  assert.deepEqual(rows.sort((x, y) => (x[2] as number) - (y[2] as number)), [['a\u0000b', 'c', 1], ['a', 'b\u0000c', 2]])
  assert.equal((await again.store.arrays.stats()).rows, 2)
  await again.close()
})

test('failRun / failPipeline with a huge error or one holding half an emoji: failed all the same (the message bounded and made well-formed)', async () => {
  const [v, reopen] = await onDisk()
  const s = v.store
  const cases = [
    { error: new Error('x'.repeat(200_000)), check: (m: string) => m.length === 100_000 && m.startsWith('Error: xxx') },
    { error: new Error('bad emoji \ud83d'), check: (m: string) => m === 'Error: bad emoji \ufffd' },
    { error: 'y'.repeat(99_999) + '😀', check: (m: string) => m.length === 99_999 },
  ]
  const done: [string, string, (m: string) => boolean][] = []
  for (const { error, check } of cases) {
    const { runId, pipelineId, chainId } = await scaffold(v)
    await s.savePrediction({ pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId: 'f', partition: 'val', arrays: { yTrue: [1] } })
    // Refused before: the pipeline stayed running with its chain and prediction, the run running.
    await s.failPipeline(pipelineId, error)
    await s.failRun(runId, error)
    assert.equal((await s.queryPredictions({ pipelineId })).numRows, 0, 'the failed pipeline is rolled back')
    done.push([runId, pipelineId, check])
  }
  await v.close()
  const again = await reopen()
  for (const [runId, pipelineId, check] of done) {
    const run = await again.store.getRun(runId)
    const pipeline = await again.store.getPipeline(pipelineId)
    assert.equal(run.status, 'failed')
    assert.equal(pipeline.status, 'failed')
    assert.ok(check(run.error!) && check(pipeline.error!), `${run.error!.slice(0, 40)}… (${run.error!.length})`)
  }
  await again.close()
})

test('a vault written before segments carried their dataset, where one segment is filed under "old" while its rows are "new"s: reads give the right arrays, and compacting (either dataset, or all) keeps them and files them under "new"', async () => {
  for (const how of ['old', 'new', 'all', 'vacuum'] as const) {
    const engine = await openVaultEngine({ name: `pre-dataset-${how}`, storage: new MemoryAdapter() })
    const db = (engine as unknown as { files: { db: SqliteDatabase } }).files.db
    const v = new VaultHandle(inProcessPort(engine), `pre-dataset-${how}`)
    const { pipelineId, chainId } = await scaffold(v)
    const base = { pipelineId, chainId, modelName: 'm', modelClass: 'M', partition: 'val', foldId: 'f' }
    const id = await v.store.savePrediction({ ...base, datasetName: 'old', arrays: { yTrue: [1, 2] } })
    const other = await v.store.savePrediction({ ...base, foldId: 'g', datasetName: 'old', arrays: { yTrue: [3] } })
    const [oldSegment] = db.all('SELECT segment FROM store_array_rows WHERE prediction_id = ?', [id]).map((r) => r[0] as string)
    await v.store.savePrediction({ ...base, datasetName: 'new', arrays: { yTrue: [1, 2] } })
    // What the earlier code left: the same rows under "new" made the very same bytes, so "new"'s
    // row took the place of "old"'s in that segment, which stayed filed under "old" (segments
    // differ only by their metadata now, which a read does not look at).
    const newSegment = db.get('SELECT segment FROM store_array_rows WHERE prediction_id = ? AND tomb = 0', [id])![0] as string
    db.run('DELETE FROM store_array_rows WHERE segment = ?', [newSegment])
    db.run('DELETE FROM store_array_segments WHERE hash = ?', [newSegment])
    db.run("UPDATE store_array_rows SET dataset_name = 'new', tomb = 0 WHERE segment = ?", [oldSegment!])
    const arraysOf = async (p: string) => (await v.store.getPrediction(p, { arrays: true })).arrays?.yTrue
    assert.deepEqual(await arraysOf(id), Float64Array.from([1, 2]), `${how}: read before compaction`)
    if (how === 'all') await v.store.arrays.compact()
    else if (how === 'vacuum') await v.store.vacuum()
    else await v.store.arrays.compact({ datasetName: how })
    assert.deepEqual(await arraysOf(id), Float64Array.from([1, 2]), `${how}: the arrays of "new" after compaction`)
    assert.deepEqual(await arraysOf(other), Float64Array.from([3]), `${how}: the arrays of "old" after compaction`)
    assert.equal(db.get('SELECT count(*) FROM store_array_rows WHERE prediction_id = ? AND tomb = 0', [id])![0], 1, `${how}: one live row`)
    // Compacting everything files each segment under the dataset of its rows.
    await v.store.arrays.compact()
    assert.deepEqual(db.all('SELECT DISTINCT s.dataset_name, r.dataset_name FROM store_array_segments s JOIN store_array_rows r ON r.segment = s.hash').filter((r) => r[0] !== r[1]), [], `${how}: no segment filed under another dataset than its rows`)
    const stats = await v.store.arrays.stats()
    assert.deepEqual(stats.datasets.map((d) => [d.datasetName, d.rows, d.segments]), [['new', 1, 1], ['old', 1, 1]], `${how}: stats`)
    assert.deepEqual(await arraysOf(id), Float64Array.from([1, 2]), `${how}: the arrays of "new" at the end`)
    await engine.close()
  }
})
