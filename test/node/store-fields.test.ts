// The experiment store given a field or option it does not know. Before, every store call ignored
// what it did not know: `savePrediction({ …, valscore: 0.9 })` saved a prediction without its score,
// `queryPredictions({ datasetname: 'd' })` returned every prediction of every dataset, and
// `topPredictions(5, { metirc: 'rmse' })` ranked by another metric. (Found by probing as a careless
// user would.) Now each is InvalidArgumentError naming the field, and nothing is written.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { InvalidArgumentError, openVault, type PredictionInput, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-store-fields-')
let v: Vault
let runId: string
let pipelineId: string
let chainId: string

before(async () => {
  v = await openVault('fields', { storage: 'fs', path: dir })
  runId = await v.store.beginRun('r')
  pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'd' })
  chainId = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'SNV', params: {}, stateless: true }], modelStepIdx: 0, modelClass: 'M' })
})
after(async () => {
  await v.close()
})

const base = (foldId: string): PredictionInput => ({ pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId, partition: 'val' })

/** Rejects with InvalidArgumentError naming `field`. */
async function refused(call: () => Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.ok(err instanceof InvalidArgumentError, `${err.name}: ${err.message}`)
    assert.match(err.message, new RegExp(`unknown field "${field}"`))
    return true
  }, `field "${field}" refused`)
}

test('a misspelt prediction field is refused, in a batch too, and nothing is saved', async () => {
  await refused(() => v.store.savePrediction({ ...base('f0'), valscore: 0.9 } as never), 'valscore')
  await refused(() => v.store.savePredictions([{ ...base('f1'), valScore: 0.5 }, { ...base('f2'), testscore: 1 } as never]), 'testscore')
  assert.equal((await v.store.queryPredictions({ pipelineId })).numRows, 0, 'no prediction saved')
  const id = await v.store.savePrediction({ ...base('f3'), valScore: 0.9, metric: 'rmse', arrays: { yTrue: [1, 2], yPred: [1, 2] } })
  assert.equal((await v.store.getPrediction(id)).valScore, 0.9, 'every documented field is still taken')
})

test('a misspelt array kind is refused, not dropped (the prediction was saved with no arrays at all), and nothing is saved', async () => {
  for (const arrays of [{ ytrue: [1, 2] }, { yTrue: [1], y_pred: [2] }, { yTrue: [1], X: [[1]] }]) {
    await assert.rejects(v.store.savePrediction({ ...base('arr'), datasetName: 'arrays', arrays } as never), (e: Error) => e instanceof InvalidArgumentError && /unknown array/.test(e.message) && e.message.includes(Object.keys(arrays).at(-1)!), JSON.stringify(arrays))
  }
  assert.equal((await v.store.queryPredictions({ pipelineId, foldId: 'arr' })).numRows, 0, 'no prediction saved')
  const id = await v.store.savePrediction({ ...base('arr'), datasetName: 'arrays', arrays: { yTrue: [1], yPred: [2], yProba: [[0.5, 0.5]], yProbaShape: [1, 2], sampleIndices: [0], weights: [1] } })
  assert.deepEqual((await v.store.getPrediction(id, { arrays: true })).arrays?.yPred, Float64Array.from([2]), 'every documented kind is still taken')
})

test("misspelt filters and options of the store's reads are refused", async () => {
  await assert.rejects(v.store.queryPredictions({ datasetname: 'd' } as never), (e: Error) => e instanceof InvalidArgumentError && /unknown prediction filter "datasetname"/.test(e.message))
  await refused(() => v.store.topPredictions(5, { metirc: 'rmse' } as never), 'metirc')
  await refused(() => v.store.listRuns({ stauts: 'running' } as never), 'stauts')
  await refused(() => v.store.getPrediction('x', { array: true } as never), 'array')
  assert.equal((await v.store.queryPredictions({ datasetName: 'd' })).numRows, 1, 'the documented filter still works')
})

test('misspelt fields of a pipeline, a chain, a chain step, a log entry and a result are refused, and change nothing', async () => {
  const pipelines = async () => (await v.store.listPipelines({ runId })).numRows
  const before = await pipelines()
  await refused(() => v.store.beginPipeline(runId, { name: 'q', expandedConfig: {}, datasetname: 'd' } as never), 'datasetname')
  assert.equal(await pipelines(), before, 'no pipeline begun')
  await refused(() => v.store.saveChain(pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'M', foldstrategy: 'x' } as never), 'foldstrategy')
  await refused(() => v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'SNV', param: {} }], modelStepIdx: 0, modelClass: 'M' } as never), 'param')
  await refused(() => v.store.logStep(pipelineId, { event: 'fit', duration: 3 } as never), 'duration')
  assert.equal((await v.store.pipelineLog(pipelineId)).length, 0, 'no log entry')
  await refused(() => v.store.completePipeline(pipelineId, { bestval: 1 } as never), 'bestval')
  assert.equal((await v.store.getPipeline(pipelineId)).status, 'running', 'the pipeline is unchanged')
})

test('a project created or updated with a misspelt field is refused and unchanged', async () => {
  await refused(() => v.store.projects.create('p', { descripton: 'typo' } as never), 'descripton')
  const id = await v.store.projects.create('p', { description: 'd' })
  await refused(() => v.store.projects.update(id, { descripton: 'typo' } as never), 'descripton')
  await v.store.projects.update(id, { name: 'q', description: 'e', meta: { a: 1 } })
  const p = await v.store.projects.get(id)
  assert.deepEqual([p.name, p.description, p.meta], ['q', 'e', { a: 1 }], 'name, description and meta still update')
})
