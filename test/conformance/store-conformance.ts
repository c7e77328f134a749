/**
 * The experiment store's conformance suite (`vault.store`), nirs4all's WorkspaceStore tests ported:
 * the same cases in Node (memory, fs), through the worker in Chromium (OPFS, IndexedDB) and from a
 * follower tab (see ./vault-conformance.ts). Crash safety (killed processes), several processes
 * saving into one run and the schema guard (a vault made by a newer build) are Node-only:
 * test/node/store.test.ts and test/node/store-crash.test.ts.
 */
import type { ChainInput, PredictionInput, Store, Vault } from '../../src/shared-exports.js'
import { mulberry32 } from '../support/prng.js'
import { check, equal, near, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'

/** A run, a pipeline and a chain to hang predictions on. */
async function scaffold(s: Store, dataset = 'wheat'): Promise<{ runId: string; pipelineId: string; chainId: string }> {
  const runId = await s.beginRun('run', { cv: 5 }, [{ name: dataset, path: `/data/${dataset}.csv` }])
  const pipelineId = await s.beginPipeline(runId, { name: '0001_pls', expandedConfig: [{ model: 'PLS' }], datasetName: dataset, datasetHash: 'h1' })
  const chainId = await s.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'SNV' }, { stepIdx: 1, operatorClass: 'PLSRegression' }], modelStepIdx: 1, modelClass: 'PLSRegression' })
  return { runId, pipelineId, chainId }
}

function prediction(p: { pipelineId: string; chainId: string }, extra: Partial<PredictionInput> = {}): PredictionInput {
  return { pipelineId: p.pipelineId, chainId: p.chainId, datasetName: 'wheat', modelName: 'PLS-5', modelClass: 'PLSRegression', foldId: 'fold_0', partition: 'val', valScore: 0.5, metric: 'rmse', taskType: 'regression', ...extra }
}

function column(t: { getChild(n: string): { toArray(): ArrayLike<unknown> } | null }, name: string): unknown[] {
  return Array.from(t.getChild(name)!.toArray())
}

const bytes = (...b: number[]) => new Uint8Array(b)

export const storeConformanceCases: VaultConformanceCase[] = [
  {
    name: 'runs and pipelines: status, timestamps, JSON values round-trip (also after reopen)',
    async run(t) {
      let v = await t.open()
      const config = { model: 'PLS', n: [1, 2, { deep: null }], ok: true, x: 1.5 }
      const runId = await v.store.beginRun('exp-1', config, [{ name: 'wheat', hash: 'abc' }])
      let run = await v.store.getRun(runId)
      equal([run.name, run.status, run.config, run.datasets, run.completedAt], ['exp-1', 'running', config, [{ name: 'wheat', hash: 'abc' }], null], 'a new run')
      check(run.createdAt instanceof Date && !Number.isNaN(run.createdAt.getTime()), 'createdAt is a Date')
      const pid = await v.store.beginPipeline(runId, { name: '0001_pls_abc', expandedConfig: { steps: ['SNV', 'PLS'] }, generatorChoices: [{ n: 5 }], datasetName: 'wheat', datasetHash: 'abc' })
      let p = await v.store.getPipeline(pid)
      equal([p.status, p.runId, p.expandedConfig, p.generatorChoices, p.datasetName, p.datasetHash], ['running', runId, { steps: ['SNV', 'PLS'] }, [{ n: 5 }], 'wheat', 'abc'], 'a new pipeline')
      await v.store.completePipeline(pid, { bestVal: 0.12, bestTest: 0.2, metric: 'rmse', durationMs: 1500 })
      await v.store.completeRun(runId, { best: 0.12, pipelines: 1 })
      v = await t.reopen(v)
      run = await v.store.getRun(runId)
      p = await v.store.getPipeline(pid)
      equal([run.status, run.summary], ['completed', { best: 0.12, pipelines: 1 }], 'a completed run after reopen')
      check(run.completedAt instanceof Date && run.completedAt.getTime() >= run.createdAt.getTime(), 'completedAt is set, not before createdAt')
      equal([p.status, p.bestVal, p.bestTest, p.metric, p.durationMs], ['completed', 0.12, 0.2, 'rmse', 1500], 'a completed pipeline')
      const failed = await v.store.beginRun('exp-2', {}, [{ name: 'corn' }])
      await v.store.failRun(failed, new Error('out of memory'))
      equal([(await v.store.getRun(failed)).status, (await v.store.getRun(failed)).error], ['failed', 'Error: out of memory'], 'a failed run')
      const runs = await v.store.listRuns()
      equal(runs.numRows, 2, 'two runs listed')
      equal(column(runs, 'runId'), [failed, runId], 'newest first')
      equal(column(await v.store.listRuns({ status: 'completed' }), 'runId'), [runId], 'listRuns by status')
      equal(column(await v.store.listRuns({ dataset: 'corn' }), 'runId'), [failed], 'listRuns by dataset')
      equal(column(await v.store.listRuns({ limit: 1, offset: 1 }), 'runId'), [runId], 'listRuns pages')
      equal(column(await v.store.listPipelines({ runId }), 'pipelineId'), [pid], 'listPipelines by run')
      equal((await v.store.listPipelines({ datasetName: 'corn' })).numRows, 0, 'listPipelines by dataset')
      await rejects(v.store.listRuns({ status: 'done' as never }), t.lib.InvalidArgumentError, 'an unknown status', /status/)
    },
  },

  {
    name: 'failPipeline rolls back its chains, predictions and arrays; its logs stay',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const { runId, pipelineId, chainId } = await scaffold(s)
      const other = await s.beginPipeline(runId, { name: 'p2', expandedConfig: {}, datasetName: 'wheat' })
      const otherChain = await s.saveChain(other, { steps: [], modelStepIdx: null, modelClass: 'RF' })
      const keep = await s.savePrediction(prediction({ pipelineId: other, chainId: otherChain }, { arrays: { yTrue: [1], yPred: [2] } }))
      const ids = await s.savePredictions([0, 1, 2].map((f) => prediction({ pipelineId, chainId }, { foldId: `fold_${f}`, arrays: { yTrue: [f], yPred: [f + 1] } })))
      await s.logStep(pipelineId, { stepIdx: 0, operatorClass: 'SNV', event: 'fit', durationMs: 3 })
      await s.failPipeline(pipelineId, 'diverged')
      const p = await s.getPipeline(pipelineId)
      equal([p.status, p.error], ['failed', 'diverged'], 'the pipeline failed')
      await rejects(s.getChain(chainId), t.lib.NotFoundError, 'its chain is gone')
      for (const id of ids) await rejects(s.getPrediction(id), t.lib.NotFoundError, 'its predictions are gone')
      equal((await s.arrays.load(ids)).size, 0, 'its arrays are not readable')
      equal([...(await s.arrays.load([keep])).keys()], [keep], 'another pipeline keeps its arrays')
      equal((await s.pipelineLog(pipelineId)).length, 1, 'its log stays')
      equal((await s.queryPredictions({ runId })).numRows, 1, 'only the other pipeline’s prediction is left')
    },
  },

  {
    name: 'a 100-prediction query matrix over datasets, partitions, folds and model classes',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const runId = await s.beginRun('matrix', {}, [{ name: 'wheat' }, { name: 'corn' }])
      const classes = ['sklearn.cross_decomposition.PLSRegression', 'sklearn.ensemble.RandomForestRegressor', 'sklearn.svm.SVR', 'xgboost.XGBRegressor', 'tensorflow.keras.Model']
      const records: PredictionInput[] = []
      for (const dataset of ['wheat', 'corn']) {
        const pipelineId = await s.beginPipeline(runId, { name: `p-${dataset}`, expandedConfig: {}, datasetName: dataset })
        for (const modelClass of classes) {
          const chainId = await s.saveChain(pipelineId, { steps: [], modelStepIdx: 0, modelClass })
          for (const partition of ['val', 'test']) {
            for (let fold = 0; fold < 5; fold++) {
              records.push({ pipelineId, chainId, datasetName: dataset, modelName: modelClass.split('.').pop()!, modelClass, foldId: `fold_${fold}`, partition, valScore: fold / 10, testScore: fold / 20, metric: 'rmse', taskType: 'regression' })
            }
          }
        }
      }
      await s.savePredictions(records)
      const count = async (f: Parameters<Store['queryPredictions']>[0]) => (await s.queryPredictions(f)).numRows
      equal(await count({}), 100, 'every prediction')
      equal(await count({ datasetName: 'wheat' }), 50, 'by dataset')
      equal(await count({ partition: 'val' }), 50, 'by partition')
      equal(await count({ foldId: 'fold_3' }), 20, 'by fold')
      equal(await count({ modelClass: 'sklearn.%' }), 60, 'modelClass as a LIKE pattern')
      equal(await count({ modelClass: '%Regressor' }), 40, 'LIKE with a leading wildcard')
      equal(await count({ modelClass: 'sklearn.svm.SVR' }), 20, 'an exact model class')
      equal(await count({ datasetName: 'corn', partition: 'test', foldId: 'fold_0', modelClass: 'xgboost.%' }), 1, 'AND of every filter')
      equal(await count({ runId }), 100, 'by run')
      equal(await count({ datasetName: 'rice' }), 0, 'nothing for an unknown dataset')
      equal(await count({ limit: 7 }), 7, 'limit')
      equal(await count({ limit: 30, offset: 90 }), 10, 'offset')
      const page = await s.queryPredictions({ datasetName: 'wheat', limit: 5 })
      equal(column(page, 'datasetName'), ['wheat', 'wheat', 'wheat', 'wheat', 'wheat'], 'rows carry their fields')
      await rejects(s.queryPredictions({ model: 'x' } as never), t.lib.InvalidArgumentError, 'an unknown filter', /model/)
      await rejects(s.queryPredictions({ limit: -1 }), t.lib.InvalidArgumentError, 'a negative limit', /limit/)
      // A filter value is a bound parameter, never SQL.
      equal(await count({ datasetName: "wheat' OR '1'='1" }), 0, 'an injection attempt matches nothing')
    },
  },

  {
    name: 'upsert on the natural key: a second save returns the first id and updates the scores',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const p = await scaffold(s)
      const first = await s.savePrediction(prediction(p, { valScore: 0.9, arrays: { yTrue: [1, 2], yPred: [1, 1] } }))
      const again = await s.savePrediction(prediction(p, { valScore: 0.3, testScore: 0.4 }))
      equal(again, first, 'same natural key, same id')
      const got = await s.getPrediction(first, { arrays: true })
      equal([got.valScore, got.testScore], [0.3, 0.4], 'the scores were updated')
      equal(got.arrays?.yPred, new Float64Array([1, 1]), 'arrays kept when the upsert brings none')
      await s.savePrediction(prediction(p, { arrays: { yTrue: [5], yPred: [6] } }))
      equal((await s.getPrediction(first, { arrays: true })).arrays?.yTrue, new Float64Array([5]), 'arrays replaced when the upsert brings them')
      const branch = await s.savePrediction(prediction(p, { branchId: 1 }))
      check(branch !== first, 'another branch is another prediction')
      equal(await s.savePrediction(prediction(p, { branchId: 1, valScore: 0.1 })), branch, 'branch ids take part in the key')
      const test = await s.savePrediction(prediction(p, { partition: 'test' }))
      check(test !== first && test !== branch, 'another partition is another prediction')
      const own = await s.savePrediction(prediction(p, { predictionId: 'my-id', foldId: 'fold_9' }))
      equal(own, 'my-id', 'an explicit id is kept')
      equal(await s.savePrediction(prediction(p, { predictionId: 'other-id', foldId: 'fold_9' })), 'my-id', 'the natural key wins over a second explicit id')
      await rejects(s.savePrediction(prediction(p, { predictionId: 'my-id', foldId: 'fold_8' })), t.lib.ConflictError, 'an explicit id that names a prediction with another key', /my-id/)
      const batch = await s.savePredictions([prediction(p, { foldId: 'f' }), prediction(p, { foldId: 'f', valScore: 7 })])
      equal(batch[0], batch[1], 'the same key twice in one batch is one prediction')
      equal((await s.getPrediction(batch[0]!)).valScore, 7, 'the later record of a batch wins')
      equal((await s.queryPredictions({})).numRows, 5, 'five distinct predictions')
      for (const bad of ['', ' x ', 'a\u0000b', 'tab\there', 123]) {
        await rejects(s.savePrediction(prediction(p, { predictionId: bad as string, foldId: 'bad' })), t.lib.InvalidArgumentError, `prediction id ${JSON.stringify(bad)}`, /predictionId/)
      }
      equal((await s.queryPredictions({ foldId: 'bad' })).numRows, 0, 'a refused save wrote nothing')
      await rejects(s.savePrediction(prediction(p, { chainId: 'nope' })), t.lib.NotFoundError, 'an unknown chain', /nope/)
      await rejects(s.savePrediction(prediction(p, { pipelineId: 'nope' })), t.lib.NotFoundError, 'an unknown pipeline', /nope/)
    },
  },

  {
    name: 'topPredictions: n best ascending or descending, n per group, metric and groupBy checked',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const p = await scaffold(s)
      const rnd = mulberry32(11)
      const records: PredictionInput[] = []
      const classes = ['PLS', 'RF', 'SVR']
      for (let i = 0; i < 60; i++) records.push(prediction(p, { foldId: `fold_${i}`, modelClass: classes[i % 3]!, partition: i % 4 === 0 ? 'test' : 'val', valScore: Math.round(rnd() * 1000) / 1000, testScore: i }))
      records.push(prediction(p, { foldId: 'no-score', valScore: null }))
      await s.savePredictions(records)
      const val = records.filter((r) => r.partition === 'val' && r.valScore !== null)
      const sorted = (rs: PredictionInput[], asc: boolean) => rs.map((r) => r.valScore as number).sort((a, b) => (asc ? a - b : b - a))
      equal(column(await s.topPredictions(5), 'valScore'), sorted(val, true).slice(0, 5), 'the 5 lowest val scores of partition val')
      equal(column(await s.topPredictions(5, { ascending: false }), 'valScore'), sorted(val, false).slice(0, 5), 'the 5 highest')
      const grouped = await s.topPredictions(2, { groupBy: 'modelClass', ascending: false })
      equal(grouped.numRows, 6, 'two per model class')
      for (const c of classes) {
        const mine = grouped.toArray().filter((r) => r.modelClass === c).map((r) => r.valScore as number)
        equal(mine, sorted(val.filter((r) => r.modelClass === c), false).slice(0, 2), `the best two of ${c}`)
      }
      equal(column(await s.topPredictions(1, { metric: 'testScore', partition: 'test' }), 'testScore'), [0], 'another metric and partition')
      equal((await s.topPredictions(100, { partition: null })).numRows, 60, 'every partition; a prediction without the score is left out')
      await rejects(s.topPredictions(3, { metric: 'val_score; DROP TABLE x' as never }), t.lib.InvalidArgumentError, 'a metric not among the known columns', /Invalid metric column/)
      await rejects(s.topPredictions(3, { groupBy: 'model_class' as never }), t.lib.InvalidArgumentError, 'a groupBy not among the known columns', /Invalid groupBy column "model_class"/)
      await rejects(s.topPredictions(0), t.lib.InvalidArgumentError, 'n of 0', /n must/)
      equal((await s.queryPredictions({})).numRows, 61, 'nothing was changed by the refused calls')
    },
  },

  {
    name: 'artifacts: sha-256 content address, dedup raises the reference count, bytes and Blobs load back',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const data = new Uint8Array(5000).map((_, i) => (i * 7) & 255)
      const id = await s.saveArtifact(data, { operatorClass: 'sklearn.preprocessing.StandardScaler', artifactType: 'transformer', format: 'joblib' })
      check(/^[0-9a-f]{64}$/.test(id), 'the id is a hex sha-256')
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data))
      equal(id, [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), 'the id is the sha-256 of the bytes')
      equal(await s.saveArtifact(data.slice(), { operatorClass: 'x', artifactType: 'transformer', format: 'joblib' }), id, 'same bytes, same id')
      equal((await s.getArtifact(id)).refCount, 2, 'the count was raised')
      equal(await s.saveArtifact(new Blob([data]), { operatorClass: 'x', artifactType: 'model', format: 'joblib' }), id, 'a Blob of the same bytes')
      equal((await s.getArtifact(id)).refCount, 3, 'raised again')
      equal(await s.loadArtifact(id), data, 'the bytes load back')
      const other = await s.saveArtifact(bytes(1, 2, 3), { operatorClass: 'PLS', artifactType: 'model', format: 'onnx' })
      check(other !== id, 'other bytes, another id')
      equal((await s.listArtifacts()).length, 2, 'two artifacts')
      await rejects(s.loadArtifact('0'.repeat(64)), t.lib.NotFoundError, 'an unknown artifact')
      await rejects(s.saveArtifact(bytes(1), { operatorClass: '', artifactType: 'model', format: 'x' }), t.lib.InvalidArgumentError, 'an empty operator class', /operatorClass/)
      // Cross-run cache.
      const cached = await s.saveArtifact(bytes(9, 9), { operatorClass: 'SNV', artifactType: 'transformer', format: 'joblib', chainHash: 'c1', dataHash: 'd1', datasetHash: 'ds1' })
      equal(await s.findCachedArtifact('c1', 'd1'), cached, 'found by its cache key')
      equal(await s.findCachedArtifact('c1', 'd2'), undefined, 'another data hash misses')
      await s.setArtifactCacheKey(other, { chainHash: 'c2', dataHash: 'd2', datasetHash: 'ds1' })
      equal(await s.findCachedArtifact('c2', 'd2'), other, 'a key set later')
      equal(await s.invalidateDatasetCache('ds1'), 2, 'two keys invalidated')
      equal([await s.findCachedArtifact('c1', 'd1'), await s.findCachedArtifact('c2', 'd2')], [undefined, undefined], 'the keys are gone')
      equal(await s.loadArtifact(cached), bytes(9, 9), 'the artifacts stay')
    },
  },

  {
    name: 'a shared artifact stays until its last reference goes; gcArtifacts with dryRun',
    async run(t) {
      let v = await t.open()
      const model = bytes(1, 1, 1)
      const opts = { operatorClass: 'PLS', artifactType: 'model', format: 'joblib' }
      const chains: string[] = []
      const runs: string[] = []
      let shared = ''
      for (let i = 0; i < 2; i++) {
        const runId = await v.store.beginRun(`r${i}`, {}, [])
        const pid = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
        shared = await v.store.saveArtifact(model, opts)
        const own = await v.store.saveArtifact(bytes(2, i), opts)
        const chainId = await v.store.saveChain(pid, { steps: [{ stepIdx: 0, operatorClass: 'SNV', artifactId: own }, { stepIdx: 1, operatorClass: 'PLS' }], modelStepIdx: 1, modelClass: 'PLS', foldArtifacts: { fold_0: shared }, sharedArtifacts: { '0': [own] } })
        await v.store.savePrediction({ pipelineId: pid, chainId, datasetName: 'wheat', modelName: 'm', modelClass: 'PLS', foldId: 'fold_0', partition: 'val', valScore: 1 })
        chains.push(chainId)
        runs.push(runId)
      }
      equal((await v.store.getArtifact(shared)).refCount, 2, 'saved twice')
      await v.store.deleteRun(runs[0]!)
      equal((await v.store.getArtifact(shared)).refCount, 1, 'one reference left')
      equal(await v.store.loadArtifact(shared), model, 'still loadable')
      await v.store.deleteRun(runs[1]!, { deleteArtifacts: false })
      equal((await v.store.getArtifact(shared)).refCount, 0, 'no reference left, kept (deleteArtifacts: false)')
      const dry = await v.store.gcArtifacts({ dryRun: true })
      equal([dry.dryRun, dry.removed.sort(), dry.bytes], [true, [shared, (await v.store.listArtifacts()).find((a) => a.artifactId !== shared)!.artifactId].sort(), 5], 'a dry run reports both')
      equal((await v.store.listArtifacts()).length, 2, 'a dry run removes nothing')
      v = await t.reopen(v)
      const gc = await v.store.gcArtifacts()
      equal([gc.dryRun, gc.removed.length], [false, 2], 'gc removes them')
      await rejects(v.store.loadArtifact(shared), t.lib.NotFoundError, 'gone after gc')
      equal((await v.store.gcArtifacts()).removed, [], 'a second gc finds nothing')
    },
  },

  {
    name: 'logs: logStep, pipelineLog in order, runLogSummary counts and durations',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const { runId, pipelineId } = await scaffold(s)
      const p2 = await s.beginPipeline(runId, { name: 'p2', expandedConfig: {}, datasetName: 'wheat' })
      await s.logStep(pipelineId, { stepIdx: 0, operatorClass: 'SNV', event: 'start' })
      await s.logStep(pipelineId, { stepIdx: 0, operatorClass: 'SNV', event: 'end', durationMs: 12.5, details: { rows: 100, cols: [1, 2] } })
      await s.logStep(pipelineId, { stepIdx: 1, operatorClass: 'PLS', event: 'fit', durationMs: 40, message: 'slow', level: 'warning' })
      await s.logStep(p2, { event: 'crash', level: 'error', durationMs: 1 })
      const log = await s.pipelineLog(pipelineId)
      equal(log.map((e) => [e.event, e.level, e.durationMs]), [['start', 'info', null], ['end', 'info', 12.5], ['fit', 'warning', 40]], 'the entries in order')
      equal(log[1]!.details, { rows: 100, cols: [1, 2] }, 'details round-trip')
      equal(log[2]!.message, 'slow', 'the message')
      check(log[0]!.createdAt instanceof Date, 'createdAt is a Date')
      equal(await s.runLogSummary(runId), { runId, logCount: 4, warningCount: 1, errorCount: 1, totalDurationMs: 53.5 }, 'the run summary')
      const empty = await s.beginRun('empty', {}, [])
      equal(await s.runLogSummary(empty), { runId: empty, logCount: 0, warningCount: 0, errorCount: 0, totalDurationMs: 0 }, 'a run without logs')
      await rejects(s.logStep(pipelineId, { event: 'x', level: 'loud' as never }), t.lib.InvalidArgumentError, 'an unknown level', /level/)
      await rejects(s.logStep('missing', { event: 'x' }), t.lib.NotFoundError, 'an unknown pipeline')
      equal((await s.pipelineLog(pipelineId)).length, 3, 'refused entries were not written')
    },
  },

  {
    name: 'deletion cascades: deleteRun counts rows, deletePrediction prunes emptied chains and pipelines',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const a = await scaffold(s)
      const b = await scaffold(s)
      const chain2 = await s.saveChain(a.pipelineId, { steps: [], modelStepIdx: null, modelClass: 'RF' })
      const ids = await s.savePredictions([
        prediction(a, { foldId: 'fold_0', arrays: { yTrue: [1], yPred: [1] } }),
        prediction(a, { foldId: 'fold_1', arrays: { yTrue: [2], yPred: [2] } }),
        prediction({ pipelineId: a.pipelineId, chainId: chain2 }, { foldId: 'fold_0' }),
        prediction(b, { foldId: 'fold_0', arrays: { yTrue: [3], yPred: [3] } }),
      ])
      await s.logStep(a.pipelineId, { event: 'fit' })
      equal(await s.deletePrediction(ids[0]!), true, 'deleted')
      equal(await s.deletePrediction(ids[0]!), false, 'a second delete returns false')
      await s.getChain(a.chainId)
      equal(await s.deletePrediction(ids[1]!), true, 'the chain’s last prediction')
      await rejects(s.getChain(a.chainId), t.lib.NotFoundError, 'an emptied chain is pruned')
      await s.getPipeline(a.pipelineId)
      equal(await s.deletePrediction(ids[2]!), true, 'the pipeline’s last prediction')
      await rejects(s.getPipeline(a.pipelineId), t.lib.NotFoundError, 'an emptied pipeline is pruned')
      equal(await s.deleteDatasetPredictions('corn'), 0, 'no prediction of that dataset')
      // run b: 1 prediction + 1 chain + 1 pipeline + 1 run.
      equal(await s.deleteRun(b.runId), 4, 'rows deleted by deleteRun')
      await rejects(s.getRun(b.runId), t.lib.NotFoundError, 'the run is gone')
      await rejects(s.getPrediction(ids[3]!), t.lib.NotFoundError, 'its prediction is gone')
      equal((await s.arrays.load(ids)).size, 0, 'no arrays are readable')
      equal((await s.arrays.stats()).rows, 0, 'no live array rows')
      await rejects(s.deleteRun(b.runId), t.lib.NotFoundError, 'a second deleteRun')
      const c = await scaffold(s, 'corn')
      await s.savePredictions([prediction(c, { datasetName: 'corn' }), prediction(c, { datasetName: 'corn', foldId: 'fold_1' })])
      equal(await s.deleteDatasetPredictions('corn'), 2, 'deleteDatasetPredictions counts')
      await rejects(s.getChain(c.chainId), t.lib.NotFoundError, 'and prunes')
    },
  },

  {
    name: 'ids are validated and unknown ids are NotFoundError',
    async run(t) {
      const s = (await t.open()).store
      for (const bad of ['', ' padded', 'padded ', 'ctl\u0001', 'nul\u0000', 42, null]) {
        await rejects(s.getRun(bad as string), t.lib.InvalidArgumentError, `getRun(${JSON.stringify(bad)})`, /runId/)
        await rejects(s.getPrediction(bad as string), t.lib.InvalidArgumentError, `getPrediction(${JSON.stringify(bad)})`, /predictionId/)
      }
      await rejects(s.getRun('nope'), t.lib.NotFoundError, 'getRun', /nope/)
      await rejects(s.getPipeline('nope'), t.lib.NotFoundError, 'getPipeline')
      await rejects(s.getChain('nope'), t.lib.NotFoundError, 'getChain')
      await rejects(s.getPrediction('nope'), t.lib.NotFoundError, 'getPrediction')
      await rejects(s.completeRun('nope'), t.lib.NotFoundError, 'completeRun')
      await rejects(s.beginPipeline('nope', { name: 'p', expandedConfig: {}, datasetName: 'd' }), t.lib.NotFoundError, 'beginPipeline of an unknown run')
      await rejects(s.runLogSummary('nope'), t.lib.NotFoundError, 'runLogSummary')
      await rejects(s.beginRun('x', { f: () => 1 } as never), t.lib.InvalidArgumentError, 'a config JSON cannot hold', /config/)
      await rejects(s.beginRun('x', { n: 1n } as never), t.lib.InvalidArgumentError, 'a bigint in a config', /config/)
      const p = await scaffold(s)
      await rejects(s.saveChain(p.pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'PLS', foldArtifacts: { fold_0: 'f'.repeat(64) } }), t.lib.NotFoundError, 'a chain naming an unknown artifact', /artifact/)
      equal((await s.listRuns()).numRows, 1, 'refused calls wrote nothing')
      equal(await s.schemaVersion(), { stored: 1, supported: 1 }, 'the store schema version')
    },
  },

  {
    name: 'arrays: every kind round-trips as typed arrays, empty and large, also after reopen',
    async run(t) {
      let v = await t.open()
      const p = await scaffold(v.store)
      const large = Float64Array.from({ length: 200_000 }, (_, i) => Math.sin(i) * 1e3)
      const proba = [[0.1, 0.9], [0.25, 0.75], [1, 0]]
      const ids = await v.store.savePredictions([
        prediction(p, { foldId: 'all', arrays: { yTrue: [1, 2, 3], yPred: new Float32Array([1.5, 2.5, 3.5]), yProba: proba, sampleIndices: [7, -1, 2147483647], weights: new Float64Array([0.5, NaN, -Infinity]) } }),
        prediction(p, { foldId: 'empty', arrays: { yTrue: [], yPred: new Float64Array(0), sampleIndices: [] } }),
        prediction(p, { foldId: 'large', arrays: { yTrue: large, yPred: large } }),
        prediction(p, { foldId: 'flat-proba', arrays: { yProba: new Float64Array([0.2, 0.3, 0.5, 0.1, 0.1, 0.8]), yProbaShape: [2, 3] } }),
        prediction(p, { foldId: 'none' }),
      ])
      const expectAll = { yTrue: new Float64Array([1, 2, 3]), yPred: new Float64Array([1.5, 2.5, 3.5]), yProba: new Float64Array([0.1, 0.9, 0.25, 0.75, 1, 0]), yProbaShape: [3, 2], sampleIndices: new Int32Array([7, -1, 2147483647]), weights: new Float64Array([0.5, NaN, -Infinity]) }
      for (let round = 0; round < 2; round++) {
        const got = await v.store.arrays.load(ids, { datasetName: 'wheat' })
        equal([...got.keys()], ids.slice(0, 4), `${round}: predictions with arrays, in the order asked`)
        equal(got.get(ids[0]!), expectAll, `${round}: every kind`)
        equal(got.get(ids[1]!), { yTrue: new Float64Array(0), yPred: new Float64Array(0), yProba: null, yProbaShape: null, sampleIndices: new Int32Array(0), weights: null }, `${round}: empty arrays stay empty, absent ones null`)
        equal(got.get(ids[2]!)!.yTrue, large, `${round}: 200k floats`)
        equal(got.get(ids[3]!)!.yProbaShape, [2, 3], `${round}: a given shape`)
        equal((await v.store.getPrediction(ids[0]!, { arrays: true })).arrays, expectAll, `${round}: getPrediction with arrays`)
        equal((await v.store.getPrediction(ids[4]!, { arrays: true })).arrays, null, `${round}: a prediction without arrays`)
        equal((await v.store.arrays.load(ids, { datasetName: 'corn' })).size, 0, `${round}: another dataset has none of them`)
        v = await t.reopen(v)
      }
      const s = v.store
      await rejects(s.savePrediction(prediction(p, { foldId: 'x', arrays: { sampleIndices: [1.5] } })), t.lib.InvalidArgumentError, 'a fractional index', /sampleIndices\[0\]/)
      await rejects(s.savePrediction(prediction(p, { foldId: 'x', arrays: { yTrue: [1, 'a' as never] } })), t.lib.InvalidArgumentError, 'a string in yTrue', /yTrue\[1\]/)
      await rejects(s.savePrediction(prediction(p, { foldId: 'x', arrays: { yProba: [[1, 2], [3]] } })), t.lib.InvalidArgumentError, 'ragged proba rows', /yProba\[1\]/)
      await rejects(s.savePrediction(prediction(p, { foldId: 'x', arrays: { yProba: [1, 2, 3], yProbaShape: [2, 2] } })), t.lib.InvalidArgumentError, 'a shape that does not fit', /yProbaShape/)
      await rejects(s.savePrediction(prediction(p, { foldId: 'x', arrays: { yTrue: new BigInt64Array(1) as never } })), t.lib.InvalidArgumentError, 'bigints', /yTrue/)
      equal((await s.queryPredictions({ foldId: 'x' })).numRows, 0, 'refused saves wrote nothing')
    },
  },

  {
    name: 'arrays: deletes tombstone, reads never see them, compact reports before/after, auto-compaction past 64',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const p = await scaffold(s)
      const ids: string[] = []
      for (let batch = 0; batch < 3; batch++) {
        ids.push(...(await s.savePredictions(Array.from({ length: 20 }, (_, i) => prediction(p, { foldId: `f${batch}-${i}`, arrays: { yTrue: [batch, i], yPred: new Float64Array(50).fill(i) } })))))
      }
      let stats = await s.arrays.stats()
      equal([stats.rows, stats.tombstones, stats.segments], [60, 0, 3], 'three segments of 20')
      for (const id of ids.slice(0, 10)) await s.deletePrediction(id)
      stats = await s.arrays.stats()
      equal([stats.rows, stats.tombstones], [50, 10], 'ten tombstones')
      equal((await s.arrays.load(ids)).size, 50, 'tombstoned rows are never read')
      const report = await s.arrays.compact({ datasetName: 'wheat' })
      const r = report.wheat!
      equal([r.rowsBefore, r.rowsAfter, r.rowsRemoved], [60, 50, 10], 'rows before and after')
      check(r.bytesAfter < r.bytesBefore && r.bytesAfter > 0, `bytes shrink (${r.bytesBefore} → ${r.bytesAfter})`)
      stats = await s.arrays.stats()
      equal([stats.rows, stats.tombstones, stats.segments, stats.bytes], [50, 0, 1, r.bytesAfter], 'one segment, no tombstones')
      const after = await s.arrays.load(ids)
      equal(after.size, 50, 'every live row after compaction')
      equal(after.get(ids[25]!)!.yTrue, new Float64Array([1, 5]), 'values survive compaction')
      equal((await s.arrays.compact()).wheat, { rowsBefore: 50, rowsAfter: 50, rowsRemoved: 0, bytesBefore: r.bytesAfter, bytesAfter: r.bytesAfter }, 'nothing to do the second time')
      // 65 more tombstones in one dataset: the delete that passes the threshold compacts.
      const more = await s.savePredictions(Array.from({ length: 70 }, (_, i) => prediction(p, { foldId: `m${i}`, arrays: { yTrue: [i] } })))
      equal(await s.deleteDatasetPredictions('wheat'), 120, 'every prediction of the dataset')
      stats = await s.arrays.stats()
      equal([stats.rows, stats.tombstones], [0, 0], 'auto-compaction cleared the tombstones')
      equal((await s.arrays.load(more)).size, 0, 'nothing readable')
      // Inside a transaction: no compaction, and compact() is refused.
      const q = await scaffold(s)
      const kept = await s.savePredictions(Array.from({ length: 70 }, (_, i) => prediction(q, { foldId: `t${i}`, arrays: { yTrue: [i] } })))
      await v.transaction(async (tx) => {
        for (const id of kept) await tx.store.deletePrediction(id)
        await rejects(tx.store.arrays.compact(), t.lib.ConflictError, 'compact inside a transaction')
      })
      equal((await s.arrays.stats()).tombstones, 70, 'no compaction inside the transaction')
      await v.transaction(async (tx) => {
        await rejects(tx.store.vacuum(), t.lib.ConflictError, 'vacuum inside a transaction')
      })
      const vacuumed = await s.vacuum()
      equal(vacuumed.arrays.wheat!.rowsAfter, 0, 'vacuum compacts every dataset')
      check(vacuumed.bytesAfter > 0, 'and reports the vault’s size')
      equal((await s.arrays.stats()).tombstones, 0, 'no tombstone left')
    },
  },

  {
    name: 'a transaction commits a prediction and its arrays together or not at all',
    async run(t) {
      let v = await t.open()
      const p = await scaffold(v.store)
      await rejects(v.transaction(async (tx) => {
        await tx.store.savePrediction(prediction(p, { foldId: 'rolled', arrays: { yTrue: [1, 2] } }))
        await tx.store.logStep(p.pipelineId, { event: 'x' })
        throw new t.lib.ConflictError('abort')
      }), t.lib.ConflictError, 'the transaction throws')
      equal((await v.store.queryPredictions({ foldId: 'rolled' })).numRows, 0, 'no prediction')
      equal((await v.store.arrays.stats()).rows, 0, 'no arrays')
      equal((await v.store.pipelineLog(p.pipelineId)).length, 0, 'no log')
      const id = await v.transaction(async (tx) => {
        const id = await tx.store.savePrediction(prediction(p, { foldId: 'kept', arrays: { yTrue: [3] } }))
        await tx.store.completePipeline(p.pipelineId, { bestVal: 1 })
        return id
      })
      v = await t.reopen(v)
      equal((await v.store.getPrediction(id, { arrays: true })).arrays?.yTrue, new Float64Array([3]), 'committed together')
      equal((await v.store.getPipeline(p.pipelineId)).status, 'completed', 'with the pipeline')
    },
  },

  {
    name: 'chains round-trip; chainsForPipeline and chainSummaries give CV averages',
    async run(t) {
      const v = await t.open()
      const s = v.store
      const { runId, pipelineId } = await scaffold(s)
      const a1 = await s.saveArtifact(bytes(1), { operatorClass: 'SNV', artifactType: 'transformer', format: 'joblib' })
      const m0 = await s.saveArtifact(bytes(2), { operatorClass: 'PLS', artifactType: 'model', format: 'joblib' })
      const mf = await s.saveArtifact(bytes(3), { operatorClass: 'PLS', artifactType: 'model', format: 'joblib' })
      const input: ChainInput = {
        steps: [{ stepIdx: 0, operatorClass: 'SNV', params: { a: 1 }, artifactId: a1, stateless: false }, { stepIdx: 1, operatorClass: 'PLS', params: { n: 5 } }],
        modelStepIdx: 1, modelClass: 'PLS', preprocessings: 'SNV', foldStrategy: 'per_fold',
        foldArtifacts: { fold_0: m0, fold_final: mf }, sharedArtifacts: { '0': a1 }, branchPath: [0, 2], sourceIndex: 1,
      }
      const chainId = await s.saveChain(pipelineId, input)
      const chain = await s.getChain(chainId)
      equal({ ...chain, createdAt: 0 }, { ...input, chainId, pipelineId, createdAt: 0 }, 'the chain as saved')
      await s.savePredictions([
        prediction({ pipelineId, chainId }, { foldId: 'fold_0', partition: 'val', valScore: 0.2 }),
        prediction({ pipelineId, chainId }, { foldId: 'fold_1', partition: 'val', valScore: 0.4 }),
        prediction({ pipelineId, chainId }, { foldId: 'fold_final', partition: 'test', testScore: 0.9 }),
      ])
      const table = await s.chainsForPipeline(pipelineId)
      const row = table.toArray().find((r) => r.chainId === chainId)!
      near(row.cvValScore as number, 0.3, 1e-12, 'the CV average of val scores')
      equal([row.foldCount, row.finalTestScore, row.predictionCount, row.runId], [2, 0.9, 3, runId], 'fold count, refit score, counts')
      equal(JSON.parse(row.foldArtifacts as string), input.foldArtifacts, 'JSON columns as text')
      equal((await s.chainSummaries({ modelClass: 'PL%' })).numRows, 2, 'chain summaries by model class')
      equal((await s.chainSummaries({ runId: 'other' })).numRows, 0, 'by run')
      // Infinite fold scores: one infinity is the mean; Infinity with -Infinity has none (null).
      const oneInf = await s.saveChain(pipelineId, input)
      const bothInf = await s.saveChain(pipelineId, input)
      await s.savePredictions([
        prediction({ pipelineId, chainId: oneInf }, { foldId: 'fold_0', partition: 'val', valScore: Infinity }),
        prediction({ pipelineId, chainId: oneInf }, { foldId: 'fold_1', partition: 'val', valScore: 1 }),
        prediction({ pipelineId, chainId: bothInf }, { foldId: 'fold_0', partition: 'val', valScore: Infinity }),
        prediction({ pipelineId, chainId: bothInf }, { foldId: 'fold_1', partition: 'val', valScore: -Infinity }),
      ])
      const rows = (await s.chainsForPipeline(pipelineId)).toArray()
      equal(rows.find((r) => r.chainId === oneInf)!.cvValScore, Infinity, 'Infinity and 1 average to Infinity')
      equal(rows.find((r) => r.chainId === bothInf)!.cvValScore, null, 'Infinity and -Infinity have no mean')
    },
  },

  {
    name: 'projects: create, list, get, getByName, update, delete, setRunProject, getOrCreate',
    async run(t) {
      const s = (await t.open()).store
      const id = await s.projects.create('wheat study', { description: 'NIRS of wheat', meta: { color: '#f00' } })
      const p = await s.projects.get(id)
      equal([p.name, p.description, p.meta], ['wheat study', 'NIRS of wheat', { color: '#f00' }], 'created')
      await rejects(s.projects.create('wheat study'), t.lib.AlreadyExistsError, 'a taken name')
      equal((await s.projects.getByName('wheat study'))?.projectId, id, 'by name')
      equal(await s.projects.getByName('nope'), undefined, 'an unknown name')
      const other = await s.projects.getOrCreate('corn')
      equal((await s.projects.getOrCreate('corn')).projectId, other.projectId, 'getOrCreate returns the existing one')
      equal((await s.projects.list()).map((x) => x.name), ['corn', 'wheat study'], 'listed by name')
      await s.projects.update(id, { name: 'wheat', meta: { color: '#0f0' } })
      const u = await s.projects.get(id)
      equal([u.name, u.description, u.meta], ['wheat', 'NIRS of wheat', { color: '#0f0' }], 'updated')
      await rejects(s.projects.update(id, { name: 'corn' }), t.lib.AlreadyExistsError, 'renaming onto a taken name')
      const runId = await s.beginRun('r', {}, [])
      await s.projects.setRunProject(runId, id)
      equal((await s.getRun(runId)).projectId, id, 'the run is in the project')
      await rejects(s.projects.setRunProject(runId, 'nope'), t.lib.NotFoundError, 'an unknown project')
      equal(await s.projects.delete(id), true, 'deleted')
      equal(await s.projects.delete(id), false, 'a second delete')
      equal((await s.getRun(runId)).projectId, null, 'its runs stay, without a project')
      await rejects(s.projects.get(id), t.lib.NotFoundError, 'gone')
    },
  },
]

export type { Vault }
