import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { unzipSync } from 'fflate'
import { parse as parseYaml } from 'yaml'
import { InvalidArgumentError, openVault, type ReplayOperators, type Vault } from '../../src/node.js'
import { duckdbReadParquet } from '../support/duckdb-reader.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-store-exports-')
const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
let counter = 0

async function withVault<T>(fn: (v: Vault) => Promise<T>): Promise<T> {
  const v = await openVault(`exports-${++counter}`, { storage: 'memory' })
  try {
    return await fn(v)
  } finally {
    await v.close()
  }
}

const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))
const parseBytes = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b))

async function scaffold(v: Vault) {
  const runId = await v.store.beginRun('r', { a: 1 }, [{ name: 'wheat' }])
  const pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: { steps: ['Lin'] }, datasetName: 'wheat' })
  const model = await v.store.saveArtifact(json({ coef: [2], intercept: 1 }), { operatorClass: 'Lin', artifactType: 'model', format: 'json' })
  const chainId = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'Lin' }], modelStepIdx: 0, modelClass: 'Lin', foldArtifacts: { fold_0: model } })
  return { runId, pipelineId, chainId, model }
}

test('exportPredictionsParquet: native DuckDB reads the file with its types and values', async () => {
  await withVault(async (v) => {
    const { pipelineId, chainId } = await scaffold(v)
    await v.store.savePredictions(Array.from({ length: 40 }, (_, i) => ({
      pipelineId, chainId, datasetName: i % 2 ? 'wheat' : 'corn', modelName: `m${i}`, modelClass: i % 3 ? 'sklearn.PLSRegression' : 'sklearn.Ridge', foldId: `fold_${i % 5}`,
      partition: 'val', valScore: i / 10, testScore: null, metric: 'rmse', taskType: 'regression', nSamples: 100 + i, branchId: i % 2, scores: { val: { rmse: i / 10 } },
      arrays: { yTrue: [i, i + 1], yPred: [i + 0.5, i + 1.5] },
    })))
    const bytes = await v.store.exportPredictionsParquet({ datasetName: 'wheat', modelClass: '%PLS%' }, { arrays: true })
    const { rows, names, types } = await duckdbReadParquet(bytes, dir, 'SELECT prediction_id, dataset_name, model_class, val_score, test_score, n_samples, branch_id, created_at, y_true, y_pred FROM f ORDER BY n_samples')
    assert.deepEqual(names, ['prediction_id', 'dataset_name', 'model_class', 'val_score', 'test_score', 'n_samples', 'branch_id', 'created_at', 'y_true', 'y_pred'])
    // Timestamps are naive UTC, as nirs4all's own (polars) exports.
    assert.deepEqual(types.slice(1, 8), ['VARCHAR', 'VARCHAR', 'DOUBLE', 'DOUBLE', 'INTEGER', 'INTEGER', 'TIMESTAMP'])
    assert.ok(rows.every((r) => Math.abs(Date.parse(`${String(r.created_at).replace(' ', 'T')}Z`) - Date.now()) < 600_000), 'created_at is the UTC time of the save')
    const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 2 === 1 && i % 3 !== 0)
    assert.deepEqual(rows.map((r) => r.n_samples), expected.map((i) => 100 + i))
    assert.deepEqual(rows.map((r) => [r.val_score, r.test_score, r.branch_id, r.y_true, r.y_pred]), expected.map((i) => [i / 10, null, 1, [i, i + 1], [i + 0.5, i + 1.5]]))
    const { rows: all } = await duckdbReadParquet(await v.store.exportPredictionsParquet(), dir, 'SELECT count(*)::INTEGER AS n, count(DISTINCT prediction_id)::INTEGER AS ids FROM f')
    assert.deepEqual(all, [{ n: 40, ids: 40 }])
    const { rows: none, names: emptyNames } = await duckdbReadParquet(await v.store.exportPredictionsParquet({ partition: 'nope' }), dir)
    assert.deepEqual(none, [])
    assert.ok(emptyNames.includes('prediction_id') && emptyNames.includes('val_score'))
    await assert.rejects(v.store.exportPredictionsParquet({}, { arrays: 'yes' as never }), (e) => e instanceof InvalidArgumentError && /options\.arrays/.test(e.message))
    await assert.rejects(v.store.exportPredictionsParquet({}, { parquet: { compression: 'lz4' as never } }), (e) => e instanceof InvalidArgumentError && /compression/.test(e.message))
  })
})

test('Node: every export writes to { path }, adding the extension when the name has none', async () => {
  await withVault(async (v) => {
    const { runId, pipelineId, chainId } = await scaffold(v)
    const n4a = await v.store.exportChain(chainId, { path: join(dir, 'out', 'chain') })
    assert.equal(n4a, join(dir, 'out', 'chain.n4a'))
    assert.deepEqual(Object.keys(unzipSync(readFileSync(n4a))).sort().slice(-2), ['chain.json', 'manifest.json'])
    const cfg = await v.store.exportPipelineConfig(pipelineId, { path: join(dir, 'out', 'cfg') })
    assert.deepEqual(JSON.parse(readFileSync(cfg, 'utf8')), { steps: ['Lin'] })
    const yaml = await v.store.exportRun(runId, { path: join(dir, 'out', 'run.yml') })
    assert.equal(yaml, join(dir, 'out', 'run.yml'))
    assert.equal(parseYaml(readFileSync(yaml, 'utf8')).run_id, runId)
    const pq = await v.store.exportPredictionsParquet({}, { path: join(dir, 'out', 'preds') })
    assert.ok(pq.endsWith('preds.parquet') && existsSync(pq))
    assert.deepEqual((await duckdbReadParquet(readFileSync(pq), dir)).rows, [])
    await assert.rejects(v.store.exportChain(chainId, { path: '' }), (e) => e instanceof InvalidArgumentError && /path/.test(e.message))
    await assert.rejects(v.store.exportRun(runId, { path: 'a\0b' }), (e) => e instanceof InvalidArgumentError && /path/.test(e.message))
    await assert.rejects(v.store.exportChain(chainId, 'x' as never), (e) => e instanceof InvalidArgumentError)
  })
})

test('replayChain refuses what operators return wrongly, naming the step', async () => {
  await withVault(async (v) => {
    const { chainId, pipelineId, model } = await scaffold(v)
    const X = [[1], [2]]
    const ok = await v.store.replayChain(chainId, X, { operators: { Lin: (b) => ({ predict: (rows) => rows.map((r) => parseBytes(b).coef[0] * r[0]! + parseBytes(b).intercept) }) } })
    assert.deepEqual(Array.from(ok), [3, 5])
    const oneValueRows = await v.store.replayChain(chainId, X, { operators: { Lin: () => ({ predict: async (rows) => rows.map((r) => [r[0]! * 10]) }) } })
    assert.deepEqual(Array.from(oneValueRows), [10, 20])
    const bad: [ReplayOperators, RegExp][] = [
      [{ Lin: () => ({}) }, /no predict/],
      [{ Lin: () => null as never }, /returned null/],
      [{ Lin: () => ({ predict: () => [1] }) }, /1 values for 2 rows/],
      [{ Lin: () => ({ predict: () => ['a', 'b'] as never }) }, /row 0/],
      [{ Lin: () => ({ predict: () => 3 as never }) }, /one value per row/],
      [{ Lin: 'nope' as never }, /must be a function/],
    ]
    for (const [operators, pattern] of bad) await assert.rejects(v.store.replayChain(chainId, X, { operators }), (e) => e instanceof InvalidArgumentError && pattern.test(e.message), String(pattern))
    for (const x of [null, [[1, 'a']], [new BigInt64Array(1)], 'rows', [[1], 2]]) await assert.rejects(v.store.replayChain(chainId, x as never, { operators: {} }), InvalidArgumentError)
    await assert.rejects(v.store.replayChain(chainId, X, undefined as never), InvalidArgumentError)
    const scaler = await v.store.saveArtifact(json({}), { operatorClass: 'Pre', artifactType: 'transformer', format: 'json' })
    const twoSteps = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'Pre' }, { stepIdx: 1, operatorClass: 'Lin' }], modelStepIdx: 1, modelClass: 'Lin', foldArtifacts: { fold_0: model }, sharedArtifacts: { 0: scaler } })
    await assert.rejects(v.store.replayChain(twoSteps, X, { operators: { Pre: () => ({ transform: (rows) => rows.slice(1) }), Lin: () => ({ predict: (r) => r.map(() => 0) }) } }), (e) => e instanceof InvalidArgumentError && /step 0/.test(e.message) && /1 rows for 2/.test(e.message))
    await assert.rejects(v.store.replayChain(twoSteps, X, { operators: { Pre: () => ({ predict: () => [] }), Lin: () => ({ predict: (r) => r.map(() => 0) }) } }), (e) => e instanceof InvalidArgumentError && /no transform/.test(e.message))
    // A step class named like an Object.prototype member is looked up among the operators given
    // only (`toString` found Object's built-in and ran it as the operator).
    const builtinNamed = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'toString' }], modelStepIdx: 0, modelClass: 'toString', foldArtifacts: { fold_0: model } })
    await assert.rejects(v.store.replayChain(builtinNamed, X, { operators: {} }), (e) => e instanceof InvalidArgumentError && /no operator for "toString"/.test(e.message))
    const noModelArtifact = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'Lin' }], modelStepIdx: 0, modelClass: 'Lin' })
    await assert.rejects(v.store.replayChain(noModelArtifact, X, { operators: { Lin: () => ({ predict: (r) => r.map(() => 0) }) } }), (e) => e instanceof InvalidArgumentError && /no fitted model/.test(e.message))
  })
})

// Property: for any rows and any per-fold linear models after a fitted affine transform, replay
// equals the hand computation (mean over folds, or the refit model alone), whatever the row type.
test('property: replayChain of a scaler + linear folds equals the hand computation', async () => {
  await withVault(async (v) => {
    const runId = await v.store.beginRun('prop', {}, [])
    const pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'd' })
    const operators: ReplayOperators = {
      Affine: (b) => {
        const { a, c } = parseBytes(b) as { a: number[]; c: number[] }
        return { transform: (rows) => rows.map((r) => Float64Array.from(r, (x, j) => a[j]! * x + c[j]!)) }
      },
      Lin: (b) => {
        const { w, k } = parseBytes(b) as { w: number[]; k: number }
        return { predict: (rows) => Float64Array.from(rows, (r) => w.reduce((s, wj, j) => s + wj * r[j]!, k)) }
      },
    }
    const small = fc.double({ min: -1e3, max: 1e3, noNaN: true })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((width) => fc.record({
          width: fc.constant(width),
          X: fc.array(fc.array(small, { minLength: width, maxLength: width }), { maxLength: 6 }),
          typed: fc.boolean(),
          a: fc.array(small, { minLength: width, maxLength: width }),
          c: fc.array(small, { minLength: width, maxLength: width }),
          folds: fc.array(fc.record({ w: fc.array(small, { minLength: width, maxLength: width }), k: small }), { minLength: 1, maxLength: 4 }),
          refit: fc.option(fc.record({ w: fc.array(small, { minLength: width, maxLength: width }), k: small })),
        })),
        async ({ X, typed, a, c, folds, refit }) => {
          const affine = await v.store.saveArtifact(json({ a, c }), { operatorClass: 'Affine', artifactType: 'transformer', format: 'json' })
          const foldArtifacts: Record<string, string> = {}
          for (const [i, f] of folds.entries()) foldArtifacts[`fold_${i}`] = await v.store.saveArtifact(json(f), { operatorClass: 'Lin', artifactType: 'model', format: 'json' })
          if (refit) foldArtifacts.fold_final = await v.store.saveArtifact(json(refit), { operatorClass: 'Lin', artifactType: 'model', format: 'json' })
          const chainId = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'Affine' }, { stepIdx: 1, operatorClass: 'Lin' }], modelStepIdx: 1, modelClass: 'Lin', foldArtifacts, sharedArtifacts: { 0: affine } })
          const out = await v.store.replayChain(chainId, typed ? X.map((r) => Float64Array.from(r)) : X, { operators })
          const models = refit ? [refit] : folds
          assert.equal(out.length, X.length)
          X.forEach((row, i) => {
            const z = row.map((x, j) => a[j]! * x + c[j]!)
            const expected = models.reduce((s, m) => s + m.w.reduce((t, wj, j) => t + wj * z[j]!, m.k), 0) / models.length
            assert.ok(Math.abs(out[i]! - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `row ${i}: ${out[i]} vs ${expected}`)
          })
        },
      ),
      { numRuns: Math.max(20, Math.floor(RUNS / 3)), seed: SEED },
    )
  })
})
