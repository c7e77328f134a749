/**
 * The experiment store's exports and replay (issue 11), environment-neutral: the same cases run in
 * Node (memory, fs) and in Chromium through the worker (OPFS, IndexedDB) and a follower tab. Files
 * are read back with readers independent of the writers: fflate's unzip, JSON.parse, yaml's parser
 * and hyparquet for Parquet (native DuckDB reads them too in test/node/store-exports.test.ts).
 */
import { unzipSync } from 'fflate'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { parse as parseYaml } from 'yaml'
import type { ReplayOperators, Store } from '../../src/shared-exports.js'
import { check, equal, near, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b)

/**
 * A fitted chain with artifacts whose bytes encode their parameters: a standard scaler (mean,
 * scale), a second transformer (multiply by 2, stateless but stored), and linear models per fold.
 */
async function fittedChain(s: Store, { refit }: { refit: boolean }) {
  const runId = await s.beginRun('replay-run', { seed: 1 }, [{ name: 'wheat' }])
  const pipelineId = await s.beginPipeline(runId, { name: '0001_scaler_lin', expandedConfig: [{ preprocessing: 'StandardScaler' }, { model: { class: 'Linear', params: { fit_intercept: true } } }], datasetName: 'wheat', datasetHash: 'h' })
  const scaler = await s.saveArtifact(json({ mean: [1, 2], scale: [2, 4] }), { operatorClass: 'StandardScaler', artifactType: 'transformer', format: 'json' })
  const doubler = await s.saveArtifact(json({ factor: 2 }), { operatorClass: 'Multiply', artifactType: 'transformer', format: 'json' })
  const fold0 = await s.saveArtifact(json({ coef: [1, 1], intercept: 0 }), { operatorClass: 'Linear', artifactType: 'model', format: 'json' })
  const fold1 = await s.saveArtifact(json({ coef: [3, -1], intercept: 1 }), { operatorClass: 'Linear', artifactType: 'model', format: 'json' })
  const final = await s.saveArtifact(json({ coef: [0.5, 0.5], intercept: 10 }), { operatorClass: 'Linear', artifactType: 'model', format: 'joblib' })
  const foldArtifacts: Record<string, string> = { fold_0: fold0, fold_1: fold1 }
  if (refit) foldArtifacts.fold_final = final
  const chainId = await s.saveChain(pipelineId, {
    steps: [
      { stepIdx: 0, operatorClass: 'StandardScaler', params: { with_mean: true } },
      { stepIdx: 1, operatorClass: 'Multiply', params: { factor: 2 } },
      { stepIdx: 2, operatorClass: 'Linear', params: {} },
    ],
    modelStepIdx: 2,
    modelClass: 'Linear',
    preprocessings: 'StandardScaler>Multiply',
    foldStrategy: 'per_fold',
    foldArtifacts,
    sharedArtifacts: { 0: scaler, 1: [doubler] },
  })
  return { runId, pipelineId, chainId, scaler, doubler, fold0, fold1, final }
}

/** The operators as a user writes them: each built from its artifact's bytes. */
const operators: ReplayOperators = {
  StandardScaler: (bytes) => {
    const { mean, scale } = JSON.parse(text(bytes)) as { mean: number[]; scale: number[] }
    return { transform: (rows) => rows.map((r) => Float64Array.from(r, (v, j) => (v - mean[j]!) / scale[j]!)) }
  },
  Multiply: (bytes) => {
    const { factor } = JSON.parse(text(bytes)) as { factor: number }
    return { transform: async (rows) => rows.map((r) => Array.from(r, (v) => v * factor)) }
  },
  Linear: (bytes) => {
    const { coef, intercept } = JSON.parse(text(bytes)) as { coef: number[]; intercept: number }
    return { predict: (rows) => rows.map((r) => coef.reduce((acc, c, j) => acc + c * r[j]!, intercept)) }
  },
}

/** The hand computation: scale, double, then a linear model. */
function byHand(row: number[], model: { coef: number[]; intercept: number }): number {
  const z = [((row[0]! - 1) / 2) * 2, ((row[1]! - 2) / 4) * 2]
  return model.intercept + model.coef[0]! * z[0]! + model.coef[1]! * z[1]!
}

function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

export const storeIoConformanceCases: VaultConformanceCase[] = [
  {
    name: 'exportChain: an .n4a zip with manifest.json, chain.json and the artifacts; only the refit model when fold_final exists',
    async run(t) {
      const v = await t.open()
      const perFold = await fittedChain(v.store, { refit: false })
      let files = unzipSync(await v.store.exportChain(perFold.chainId))
      const manifest = JSON.parse(text(files['manifest.json']))
      equal([manifest.chain_id, manifest.model_class, manifest.model_step_index, manifest.preprocessings, manifest.fold_strategy, manifest.has_refit], [perFold.chainId, 'Linear', 2, 'StandardScaler>Multiply', 'per_fold', false], 'the manifest of a per-fold chain')
      check(!Number.isNaN(Date.parse(manifest.exported_at)), 'exported_at is an ISO date')
      const chain = JSON.parse(text(files['chain.json']))
      equal(chain.fold_artifacts, { fold_0: perFold.fold0, fold_1: perFold.fold1 }, 'every fold model is listed')
      equal(chain.shared_artifacts, { 0: perFold.scaler, 1: [perFold.doubler] }, 'shared artifacts as saved')
      equal(chain.steps.map((s: { step_idx: number; operator_class: string }) => [s.step_idx, s.operator_class]), [[0, 'StandardScaler'], [1, 'Multiply'], [2, 'Linear']], 'the steps, snake_case')
      equal(chain.model_step_idx, 2, 'model_step_idx')
      const artifactNames = Object.keys(files).filter((n) => n.startsWith('artifacts/')).sort()
      equal(artifactNames, [perFold.doubler, perFold.fold0, perFold.fold1, perFold.scaler].sort().map((id) => `artifacts/${id}.json`), 'the four artifacts, named by content hash')
      equal(JSON.parse(text(files[`artifacts/${perFold.fold1}.json`])), { coef: [3, -1], intercept: 1 }, 'artifact bytes as saved')

      const refit = await fittedChain(v.store, { refit: true })
      files = unzipSync(await v.store.exportChain(refit.chainId))
      const m2 = JSON.parse(text(files['manifest.json']))
      equal([m2.fold_strategy, m2.has_refit], ['single_refit', true], 'a refit chain exports as single_refit')
      equal(JSON.parse(text(files['chain.json'])).fold_artifacts, { fold_final: refit.final }, 'only the refit model is referenced')
      equal(Object.keys(files).filter((n) => n.startsWith('artifacts/')).sort(), [`artifacts/${refit.doubler}.json`, `artifacts/${refit.final}.joblib`, `artifacts/${refit.scaler}.json`].sort(), 'fold models are left out')
      await rejects(v.store.exportChain('no-such-chain'), t.lib.NotFoundError, 'an unknown chain')
      await rejects(v.store.exportChain(' padded '), t.lib.InvalidArgumentError, 'a padded id')
    },
  },
  {
    name: 'exportPipelineConfig is the expanded configuration as JSON; exportRun is the run, its pipelines and chains as YAML',
    async run(t) {
      const v = await t.open()
      const { runId, pipelineId, chainId } = await fittedChain(v.store, { refit: false })
      equal(JSON.parse(await v.store.exportPipelineConfig(pipelineId)), [{ preprocessing: 'StandardScaler' }, { model: { class: 'Linear', params: { fit_intercept: true } } }], 'the pipeline config')
      await v.store.completePipeline(pipelineId, { bestVal: 0.25, metric: 'rmse', durationMs: 12 })
      await v.store.completeRun(runId, { best: 0.25, note: 'a: "quoted" #not-a-comment' })
      const doc = parseYaml(await v.store.exportRun(runId))
      equal([doc.run_id, doc.name, doc.status, doc.config, doc.datasets, doc.summary], [runId, 'replay-run', 'completed', { seed: 1 }, [{ name: 'wheat' }], { best: 0.25, note: 'a: "quoted" #not-a-comment' }], 'the run fields')
      check(!Number.isNaN(Date.parse(doc.created_at)) && !Number.isNaN(Date.parse(doc.completed_at)), 'timestamps are ISO text')
      equal(doc.pipelines.length, 1, 'one pipeline')
      const p = doc.pipelines[0]
      equal([p.pipeline_id, p.name, p.status, p.dataset_name, p.best_val, p.metric, p.duration_ms], [pipelineId, '0001_scaler_lin', 'completed', 'wheat', 0.25, 'rmse', 12], 'the pipeline fields')
      equal(p.chains.map((c: { chain_id: string; model_class: string }) => [c.chain_id, c.model_class]), [[chainId, 'Linear']], 'its chain')
      await rejects(v.store.exportRun('missing'), t.lib.NotFoundError, 'an unknown run')
      await rejects(v.store.exportPipelineConfig('missing'), t.lib.NotFoundError, 'an unknown pipeline')
    },
  },
  {
    name: 'exportPredictionsParquet: a zstd Parquet file hyparquet reads back, filtered, with arrays on request; no match is a valid empty file',
    async run(t) {
      const v = await t.open()
      const { pipelineId, chainId } = await fittedChain(v.store, { refit: false })
      const base = { pipelineId, chainId, datasetName: 'wheat', modelName: 'LIN', modelClass: 'Linear', metric: 'rmse', taskType: 'regression' }
      const ids = await v.store.savePredictions([
        { ...base, foldId: 'fold_0', partition: 'val', valScore: 0.5, nSamples: 3, scores: { val: { rmse: 0.5 } }, arrays: { yTrue: [1, 2, 3], yPred: [1.5, 2, 2.5], sampleIndices: [0, 1, 2] } },
        { ...base, foldId: 'fold_1', partition: 'val', valScore: 0.25, nSamples: 2, arrays: { yTrue: [4, 5], yPred: [4, 5.5] } },
        { ...base, foldId: 'fold_0', partition: 'test', testScore: 0.75 },
      ])
      const bytes = await v.store.exportPredictionsParquet({ partition: 'val' })
      const meta = parquetMetadata(buffer(bytes))
      check(meta.row_groups.every((g) => g.columns.every((c) => c.meta_data?.codec === 'ZSTD')), 'zstd pages')
      // One batch shares a timestamp: order the rows by fold for the comparison.
      const byFold = (a: Record<string, unknown>, b: Record<string, unknown>) => `${String(a.partition)}${String(a.fold_id)}`.localeCompare(`${String(b.partition)}${String(b.fold_id)}`)
      const rows = (await parquetReadObjects({ file: buffer(bytes), compressors })).sort(byFold)
      equal(rows.map((r) => [r.prediction_id, r.fold_id, r.partition, r.val_score, r.n_samples, r.model_class]), [[ids[0], 'fold_0', 'val', 0.5, 3, 'Linear'], [ids[1], 'fold_1', 'val', 0.25, 2, 'Linear']], 'the val predictions, nirs4all column names')
      equal(JSON.parse(rows[0]!.scores as string), { val: { rmse: 0.5 } }, 'JSON fields as JSON text')
      check(!('y_true' in rows[0]!), 'no arrays unless asked (as nirs4all)')
      const withArrays = (await parquetReadObjects({ file: buffer(await v.store.exportPredictionsParquet({ datasetName: 'wheat' }, { arrays: true })), compressors })).sort(byFold)
      equal(withArrays.map((r) => [r.partition, r.y_true, r.y_pred, r.sample_indices]), [['test', null, null, null], ['val', [1, 2, 3], [1.5, 2, 2.5], [0, 1, 2]], ['val', [4, 5], [4, 5.5], null]], 'arrays as list columns')
      const empty = await v.store.exportPredictionsParquet({ datasetName: 'no-such-dataset' })
      const emptyMeta = parquetMetadata(buffer(empty))
      equal(Number(emptyMeta.num_rows), 0, 'no rows')
      check(emptyMeta.schema.some((e) => e.name === 'prediction_id') && emptyMeta.schema.some((e) => e.name === 'val_score'), 'the columns are there')
      equal(await parquetReadObjects({ file: buffer(empty), compressors }), [], 'an empty file reads as no rows')
      await rejects(v.store.exportPredictionsParquet({ limit: -1 }), t.lib.InvalidArgumentError, 'a bad filter')
    },
  },
  {
    name: 'replayChain matches a hand computation: shared artifacts in order, the mean of the fold models, or the refit model alone',
    async run(t) {
      const v = await t.open()
      const X = [[1, 2], [3, 6], [-1, 10]]
      const perFold = await fittedChain(v.store, { refit: false })
      const out = await v.store.replayChain(perFold.chainId, X, { operators })
      check(out instanceof Float64Array && out.length === 3, 'one value per row, as a Float64Array')
      X.forEach((row, i) => near(out[i]!, (byHand(row, { coef: [1, 1], intercept: 0 }) + byHand(row, { coef: [3, -1], intercept: 1 })) / 2, 1e-12, `row ${i}: the mean of the two fold models`))
      const refit = await fittedChain(v.store, { refit: true })
      const typedRows = X.map((r) => Float64Array.from(r))
      const out2 = await v.store.replayChain(refit.chainId, typedRows, { operators })
      X.forEach((row, i) => near(out2[i]!, byHand(row, { coef: [0.5, 0.5], intercept: 10 }), 1e-12, `row ${i}: the refit model only`))
      equal(Array.from(await v.store.replayChain(refit.chainId, [], { operators })), [], 'no rows: no values')
      const noModel = await v.store.saveChain(refit.pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'StandardScaler' }], modelStepIdx: null, modelClass: '', sharedArtifacts: { 0: refit.scaler } })
      await rejects(v.store.replayChain(noModel, X, { operators }), t.lib.InvalidArgumentError, 'a chain without a model step', /no model step/)
      await rejects(v.store.replayChain(refit.chainId, X, { operators: { Linear: operators.Linear! } }), t.lib.InvalidArgumentError, 'a missing operator is named', /StandardScaler/)
      await rejects(v.store.replayChain(refit.chainId, [[1, 2], [3]], { operators }), t.lib.InvalidArgumentError, 'ragged rows', /one length/)
      await rejects(v.store.replayChain('missing', X, { operators }), t.lib.NotFoundError, 'an unknown chain')
    },
  },
]
