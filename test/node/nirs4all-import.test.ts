import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CorruptionError, NotFoundError, UnsupportedError, importNirs4allWorkspace, openVault, type Vault } from '../../src/node.js'
import { createStore, insert, sha256, writeArtifact, writeSidecar } from '../support/nirs4all-workspace.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-nirs4all-')
let counter = 0
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))

/**
 * A workspace of two runs: a completed one in a project (two pipelines: one completed with a refit
 * chain, one failed and empty), and a failed one with a per-fold chain; artifacts shared between
 * chains (ref_count 2) and one garbage artifact (ref_count 0); predictions in two datasets (one name
 * with a space), one array row duplicated (last wins) and one of a deleted prediction.
 */
async function buildWorkspace(name: string, tweak?: { missingArtifactFile?: boolean; badJson?: boolean; pythonFloats?: boolean }) {
  const folder = join(dir, name)
  const db = createStore(folder)
  const scalerBytes = enc({ mean: [1, 2], scale: [2, 4] })
  const scaler = writeArtifact(folder, scalerBytes, 'joblib')
  const foldBytes = [enc({ coef: [1, 1] }), enc({ coef: [3, -1] })]
  const folds = foldBytes.map((b) => writeArtifact(folder, b, 'joblib'))
  const finalBytes = enc({ coef: [0.5, 0.5] })
  const final = tweak?.missingArtifactFile ? { path: 'ff/missing.joblib', hash: 'ff'.repeat(32) } : writeArtifact(folder, finalBytes, 'joblib')
  const garbage = writeArtifact(folder, enc({ old: true }), 'joblib')
  insert(db, 'projects', { project_id: 'proj-1', name: 'Wheat study', description: 'NIR wheat', color: '#ff0000' })
  const art = (id: string, a: { path: string; hash: string }, op: string, type: string, refs: number, extra: Record<string, unknown> = {}) =>
    insert(db, 'artifacts', { artifact_id: id, artifact_path: a.path, content_hash: a.hash, operator_class: op, artifact_type: type, format: 'joblib', size_bytes: 10, ref_count: refs, ...extra })
  art('0001:0:all', scaler, 'sklearn.preprocessing.StandardScaler', 'transformer', 2, { chain_path_hash: 'ch1', input_data_hash: 'dh1', dataset_hash: 'wheat-h' })
  art('0001:1:fold_0', folds[0]!, 'sklearn.linear_model.Ridge', 'model', 1)
  art('0001:1:fold_1', folds[1]!, 'sklearn.linear_model.Ridge', 'model', 1)
  art('0001:1:final', final, 'sklearn.linear_model.Ridge', 'model', 1)
  art('0000:old', garbage, 'Old', 'model', 0)
  insert(db, 'runs', { run_id: 'run-a', name: 'wheat sweep', config: { cv: 2, seed: 7 }, datasets: [{ name: 'wheat', path: '/d/wheat.csv' }], status: 'completed', summary: { best: 0.2 }, project_id: 'proj-1', created_at: '2026-01-01T10:00:00' })
  insert(db, 'runs', { run_id: 'run-b', name: 'corn try', config: tweak?.badJson ? '{not json' : {}, datasets: [{ name: 'corn field' }], status: 'failed', error: 'MemoryError', created_at: '2026-01-02T10:00:00' })
  insert(db, 'pipelines', { pipeline_id: 'pl-1', run_id: 'run-a', name: '0001_ridge_abc', expanded_config: [{ StandardScaler: {} }, { model: 'Ridge' }], generator_choices: [{ alpha: 1 }], dataset_name: 'wheat', dataset_hash: 'wheat-h', status: 'completed', best_val: 0.2, best_test: 0.3, metric: 'rmse', duration_ms: 1234 })
  insert(db, 'pipelines', { pipeline_id: 'pl-2', run_id: 'run-a', name: '0002_broken', expanded_config: {}, generator_choices: [], dataset_name: 'wheat', status: 'failed', error: 'ValueError: bad' })
  insert(db, 'pipelines', { pipeline_id: 'pl-3', run_id: 'run-b', name: '0001_ridge', expanded_config: { m: 'Ridge' }, generator_choices: [], dataset_name: 'corn field', status: 'running' })
  const steps = [{ step_idx: 0, operator_class: 'StandardScaler', params: { with_mean: true }, artifact_id: '0001:0:all', stateless: false }, { step_idx: 1, operator_class: 'Ridge', params: { alpha: 1 }, artifact_id: null, stateless: false }]
  insert(db, 'chains', { chain_id: 'ch-1', pipeline_id: 'pl-1', steps, model_step_idx: 1, model_class: 'sklearn.linear_model.Ridge', preprocessings: 'StandardScaler', fold_strategy: 'per_fold', fold_artifacts: { fold_0: '0001:1:fold_0', fold_1: '0001:1:fold_1', fold_final: '0001:1:final' }, shared_artifacts: { 0: ['0001:0:all'], _source_map: { a: 1 } }, branch_path: [0, 1], source_index: 0 })
  insert(db, 'chains', { chain_id: 'ch-2', pipeline_id: 'pl-3', steps, model_step_idx: 1, model_class: 'sklearn.linear_model.Ridge', preprocessings: 'StandardScaler', fold_strategy: 'per_fold', fold_artifacts: { fold_0: '0001:1:fold_0' }, shared_artifacts: { 0: '0001:0:all' } })
  const pred = (id: string, chain: string, pipeline: string, ds: string, fold: string, partition: string, val: number, extra: Record<string, unknown> = {}) =>
    insert(db, 'predictions', { prediction_id: id, pipeline_id: pipeline, chain_id: chain, dataset_name: ds, model_name: 'Ridge-1', model_class: 'sklearn.linear_model.Ridge', fold_id: fold, partition, val_score: val, metric: 'rmse', task_type: 'regression', n_samples: 3, n_features: 2, scores: { [partition]: { rmse: val } }, best_params: { alpha: 1 }, ...extra })
  pred('p-1', 'ch-1', 'pl-1', 'wheat', 'fold_0', 'val', 0.25, { branch_id: 0, branch_name: 'main', exclusion_count: 1, exclusion_rate: 0.1 })
  // Python's json.dumps writes a float NaN or infinity as a bare token, which JSON has not.
  pred('p-2', 'ch-1', 'pl-1', 'wheat', 'fold_1', 'val', 0.35, tweak?.pythonFloats ? { scores: '{"val": {"rmse": NaN, "r2": -Infinity, "mae": Infinity, "note": "NaN, Infinity", "n": [1, NaN]}}' } : {})
  pred('p-3', 'ch-1', 'pl-1', 'wheat', 'final', 'test', 0.3, { test_score: 0.3, refit_context: 'standalone' })
  pred('p-4', 'ch-2', 'pl-3', 'corn field', 'fold_0', 'val', 0.5, { task_type: 'classification', metric: 'accuracy' })
  pred('p-5', null as never, 'pl-3', 'corn field', 'fold_0', 'train', 0.1, { model_name: 'legacy' })
  const logs: [string, string, number, string, string, number | null][] = [['l-1', 'pl-1', 0, 'fit', 'info', 100], ['l-2', 'pl-1', 1, 'fit', 'warn', 250], ['l-3', 'pl-3', 1, 'fail', 'error', null]]
  for (const [id, pl, step, event, level, ms] of logs) insert(db, 'logs', { log_id: id, pipeline_id: pl, step_idx: step, operator_class: 'X', event, duration_ms: ms, message: `m-${id}`, details: { id }, level })
  db.close()
  await writeSidecar(folder, 'wheat', [
    { prediction_id: 'p-1', dataset_name: 'wheat', y_true: [1, 2, 3], y_pred: [1.5, 2, 9], sample_indices: [0, 1, 2], weights: [1, 1, 0.5] },
    { prediction_id: 'p-2', dataset_name: 'wheat', y_true: [4, 5, 6], y_pred: [4, 5, 6] },
    { prediction_id: 'p-1', dataset_name: 'wheat', y_true: [1, 2, 3], y_pred: [1.5, 2.5, 3.5], sample_indices: [0, 1, 2], weights: [1, 1, 0.5] },
    { prediction_id: 'p-gone', dataset_name: 'wheat', y_true: [0], y_pred: [0] },
  ])
  await writeSidecar(folder, 'corn_field', [{ prediction_id: 'p-4', dataset_name: 'corn field', y_true: [0, 1, 1], y_pred: [0, 1, 0], y_proba: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4], y_proba_shape: [3, 2] }])
  return { folder, bytes: { scaler: scalerBytes, folds: foldBytes, final: finalBytes } }
}

async function fresh(): Promise<Vault> {
  return openVault(`import-${++counter}`, { storage: 'fs', path: dir })
}

test('a nirs4all workspace arrives whole: runs, pipelines, chains, predictions with arrays, artifacts, logs, projects', async () => {
  const { folder, bytes } = await buildWorkspace('full')
  const v = await fresh()
  try {
    const report = await importNirs4allWorkspace(v, folder)
    assert.equal(report.schemaVersion, 5)
    assert.deepEqual(report.counts, { runs: 2, pipelines: 3, chains: 2, predictions: 4, arrays: 3, artifacts: 4, logs: 3, projects: 1 })
    assert.ok(report.skipped.some((s) => s.includes('p-5')), 'the prediction without a chain is reported')
    assert.ok(report.skipped.some((s) => s.includes('p-gone')), 'arrays of a deleted prediction are reported')
    assert.ok(report.skipped.some((s) => s.includes('0000:old')), 'the garbage artifact is reported')
    assert.ok(report.skipped.some((s) => s.includes('_source_map')), 'nirs4all metadata keys are reported')
    const s = v.store
    // Artifacts: content addressed, bytes intact, nirs4all's reference counts.
    const ids = report.ids
    assert.equal(ids.artifacts['0001:0:all'], sha256(bytes.scaler))
    assert.deepEqual(await s.loadArtifact(ids.artifacts['0001:1:final']!), bytes.final)
    const scalerMeta = await s.getArtifact(ids.artifacts['0001:0:all']!)
    assert.deepEqual([scalerMeta.refCount, scalerMeta.operatorClass, scalerMeta.artifactType, scalerMeta.format, scalerMeta.chainHash, scalerMeta.dataHash, scalerMeta.datasetHash], [2, 'sklearn.preprocessing.StandardScaler', 'transformer', 'joblib', 'ch1', 'dh1', 'wheat-h'])
    assert.equal(await s.findCachedArtifact('ch1', 'dh1'), ids.artifacts['0001:0:all'])
    assert.equal((await s.listArtifacts()).length, 4)
    // Runs and projects.
    const runA = await s.getRun(ids.runs['run-a']!)
    assert.deepEqual([runA.name, runA.status, runA.config, runA.datasets, runA.summary], ['wheat sweep', 'completed', { cv: 2, seed: 7 }, [{ name: 'wheat', path: '/d/wheat.csv' }], { best: 0.2 }])
    const project = await s.projects.getByName('Wheat study')
    assert.deepEqual([runA.projectId, project?.description, project?.meta], [project?.projectId, 'NIR wheat', { color: '#ff0000' }])
    const runB = await s.getRun(ids.runs['run-b']!)
    assert.deepEqual([runB.status, runB.error], ['failed', 'MemoryError'])
    // Pipelines.
    const pl1 = await s.getPipeline(ids.pipelines['pl-1']!)
    assert.deepEqual([pl1.runId, pl1.name, pl1.status, pl1.expandedConfig, pl1.generatorChoices, pl1.datasetName, pl1.datasetHash, pl1.bestVal, pl1.bestTest, pl1.metric, pl1.durationMs], [ids.runs['run-a'], '0001_ridge_abc', 'completed', [{ StandardScaler: {} }, { model: 'Ridge' }], [{ alpha: 1 }], 'wheat', 'wheat-h', 0.2, 0.3, 'rmse', 1234])
    assert.deepEqual([(await s.getPipeline(ids.pipelines['pl-2']!)).status, (await s.getPipeline(ids.pipelines['pl-2']!)).error], ['failed', 'ValueError: bad'])
    assert.equal((await s.getPipeline(ids.pipelines['pl-3']!)).status, 'running')
    // Chains, with artifact references rewritten to content addresses.
    const ch1 = await s.getChain(ids.chains['ch-1']!)
    assert.deepEqual([ch1.pipelineId, ch1.modelStepIdx, ch1.modelClass, ch1.preprocessings, ch1.foldStrategy, ch1.branchPath, ch1.sourceIndex], [ids.pipelines['pl-1'], 1, 'sklearn.linear_model.Ridge', 'StandardScaler', 'per_fold', [0, 1], 0])
    assert.deepEqual(ch1.foldArtifacts, { fold_0: sha256(bytes.folds[0]!), fold_1: sha256(bytes.folds[1]!), fold_final: sha256(bytes.final) })
    assert.deepEqual(ch1.sharedArtifacts, { 0: [sha256(bytes.scaler)] })
    assert.deepEqual(ch1.steps.map((st) => [st.stepIdx, st.operatorClass, st.params, st.artifactId]), [[0, 'StandardScaler', { with_mean: true }, sha256(bytes.scaler)], [1, 'Ridge', { alpha: 1 }, null]])
    // Predictions keep their ids; arrays from the sidecars (the last duplicate row wins).
    const p1 = await s.getPrediction('p-1', { arrays: true })
    assert.deepEqual([p1.pipelineId, p1.chainId, p1.runId, p1.datasetName, p1.foldId, p1.partition, p1.valScore, p1.scores, p1.bestParams, p1.branchId, p1.branchName, p1.exclusionCount, p1.exclusionRate, p1.nSamples, p1.nFeatures], [ids.pipelines['pl-1'], ids.chains['ch-1'], ids.runs['run-a'], 'wheat', 'fold_0', 'val', 0.25, { val: { rmse: 0.25 } }, { alpha: 1 }, 0, 'main', 1, 0.1, 3, 2])
    assert.deepEqual(p1.arrays, { yTrue: new Float64Array([1, 2, 3]), yPred: new Float64Array([1.5, 2.5, 3.5]), yProba: null, yProbaShape: null, sampleIndices: new Int32Array([0, 1, 2]), weights: new Float64Array([1, 1, 0.5]) })
    const p4 = await s.getPrediction('p-4', { arrays: true })
    assert.deepEqual([p4.taskType, p4.metric, p4.arrays?.yProbaShape, Array.from(p4.arrays?.yProba ?? [])], ['classification', 'accuracy', [3, 2], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4]])
    assert.equal((await s.getPrediction('p-3', { arrays: true })).arrays ?? null, null)
    await assert.rejects(s.getPrediction('p-5'), NotFoundError)
    assert.equal((await s.queryPredictions({})).numRows, 4)
    // Logs.
    const log = await s.pipelineLog(ids.pipelines['pl-1']!)
    assert.deepEqual(log.map((l) => [l.stepIdx, l.event, l.level, l.durationMs, l.message, l.details]), [[0, 'fit', 'info', 100, 'm-l-1', { id: 'l-1' }], [1, 'fit', 'warning', 250, 'm-l-2', { id: 'l-2' }]])
    const summary = await s.runLogSummary(ids.runs['run-a']!)
    assert.deepEqual([summary.logCount, summary.warningCount, summary.totalDurationMs], [2, 1, 350])
    // The imported chain exports and replays like any other.
    const params = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as { mean: number[]; scale: number[]; coef: number[] }
    const replayed = await s.replayChain(ids.chains['ch-1']!, [[3, 6]], {
      operators: {
        StandardScaler: (b) => ({ transform: (rows) => rows.map((r) => Array.from(r, (x, j) => (x - params(b).mean[j]!) / params(b).scale[j]!)) }),
        Ridge: (b) => ({ predict: (rows) => rows.map((r) => params(b).coef.reduce((acc, c, j) => acc + c * r[j]!, 0)) }),
      },
    })
    assert.deepEqual(Array.from(replayed), [0.5 * 1 + 0.5 * 1])
    // Survives close and reopen.
    await v.close()
    const again = await openVault(`import-${counter}`, { storage: 'fs', path: dir })
    assert.equal((await again.store.queryPredictions({})).numRows, 4)
    await again.close()
  } finally {
    await v.close()
  }
})

test("Python's NaN and ±Infinity in a workspace's JSON import as null, and the report says so (they made the whole import fail)", async () => {
  const { folder } = await buildWorkspace('python-floats', { pythonFloats: true })
  const v = await fresh()
  try {
    const report = await importNirs4allWorkspace(v, folder)
    assert.equal(report.counts.predictions, 4)
    assert.deepEqual((await v.store.getPrediction('p-2')).scores, { val: { rmse: null, r2: null, mae: null, note: 'NaN, Infinity', n: [1, null] } })
    assert.ok(report.skipped.includes("predictions.scores: Python's NaN and ±Infinity (not JSON) imported as null"), report.skipped.join('; '))
    assert.deepEqual((await v.store.getPrediction('p-1')).scores, { val: { rmse: 0.25 } }, 'other JSON unchanged')
  } finally {
    await v.close()
  }
})

test('an import that fails part-way writes nothing (one transaction); the error names the cause', async () => {
  for (const [name, tweak, Class, pattern] of [
    ['missing-file', { missingArtifactFile: true }, NotFoundError, /0001:1:final.*used by a chain/],
    ['bad-json', { badJson: true }, CorruptionError, /runs\.config/],
  ] as const) {
    const { folder } = await buildWorkspace(name, tweak)
    const v = await fresh()
    try {
      await assert.rejects(importNirs4allWorkspace(v, folder), (e) => e instanceof Class && pattern.test(e.message), name)
      assert.equal((await v.store.listRuns()).numRows, 0, `${name}: no run`)
      assert.deepEqual(await v.store.listArtifacts(), [], `${name}: no artifact`)
      assert.equal((await v.store.queryPredictions({})).numRows, 0, `${name}: no prediction`)
    } finally {
      await v.close()
    }
  }
})

test('what is not a workspace to import is refused clearly and nothing is written', async () => {
  const v = await fresh()
  try {
    await assert.rejects(importNirs4allWorkspace(v, join(dir, 'nowhere')), (e) => e instanceof NotFoundError && /no store\.sqlite/.test(e.message))
    const duck = join(dir, 'duckdb-era')
    createStore(duck).close()
    writeFileSync(join(duck, 'store.duckdb'), 'x')
    const { rmSync } = await import('node:fs')
    rmSync(join(duck, 'store.sqlite'))
    await assert.rejects(importNirs4allWorkspace(v, duck), (e) => e instanceof UnsupportedError && /DuckDB-era/.test(e.message))
    const newer = join(dir, 'newer')
    createStore(newer, 6).close()
    await assert.rejects(importNirs4allWorkspace(v, newer), (e) => e instanceof UnsupportedError && /schema version 6/.test(e.message))
    // Still open in nirs4all: its write-ahead log holds commits the main file does not have yet.
    const open = join(dir, 'open')
    const db = createStore(open)
    db.prepare("INSERT INTO runs (run_id, name) VALUES ('r', 'n')").run()
    await assert.rejects(importNirs4allWorkspace(v, open), (e) => e instanceof UnsupportedError && /-wal is not empty/.test(e.message))
    db.close()
    const report = await importNirs4allWorkspace(v, open)
    assert.equal(report.counts.runs, 1, 'once nirs4all has closed it, it imports')
    await assert.rejects(importNirs4allWorkspace(v, '' as string), (e) => e instanceof Error && e.name === 'InvalidArgumentError')
    assert.equal((await v.store.listRuns()).numRows, 1)
  } finally {
    await v.close()
  }
})

// A real kill (SIGKILL) at a random moment of an import: after reopening, the vault holds the whole
// workspace or none of it, and it always opens. KILL_SEED replays the kill moments.
test('SIGKILL during an import leaves all of the workspace or none of it', async (t) => {
  const seed = Number(process.env.KILL_SEED ?? Math.floor(Math.random() * 1_000_000))
  const random = mulberry32(seed)
  const { folder } = await buildWorkspace('killed')
  const child = fileURLToPath(new URL('./fixtures/import-child.ts', import.meta.url))
  const outcomes: string[] = []
  for (let round = 0; round < 3; round++) {
    const name = `killed-${round}`
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, name, folder], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    const lines = createInterface({ input: proc.stdout! })
    let done = false
    let finished: () => void = () => {}
    const completed = new Promise<void>((resolve) => (finished = resolve))
    const opened = new Promise<void>((resolve) => lines.on('line', (l) => {
      if (l === 'open') resolve()
      if (l === 'done') (done = true), finished()
    }))
    await Promise.race([opened, exited])
    // The import takes ~0.1-0.5 s here: kill somewhere in it; the last round kills once it resolved.
    if (round === 2) await Promise.race([completed, exited])
    else await new Promise((r) => setTimeout(r, random() * 400))
    proc.kill('SIGKILL')
    await exited
    const v = await openVault(name, { storage: 'fs', path: dir })
    try {
      const runs = (await v.store.listRuns()).numRows
      const predictions = (await v.store.queryPredictions({})).numRows
      const artifacts = (await v.store.listArtifacts()).length
      const state = [runs, predictions, artifacts].join('/')
      assert.ok(state === '0/0/0' || state === '2/4/4', `seed ${seed}, round ${round}: half an import (${state} runs/predictions/artifacts)`)
      if (done) assert.equal(state, '2/4/4', `seed ${seed}, round ${round}: an import that resolved must all be there`)
      outcomes.push(state)
    } finally {
      await v.close()
    }
  }
  t.diagnostic(`seed ${seed}: ${outcomes.join(', ')}`)
  assert.ok(outcomes.includes('2/4/4'), `seed ${seed}: at least one import ran to its end (${outcomes.join(', ')})`)
})
