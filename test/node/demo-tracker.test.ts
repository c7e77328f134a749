import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { openVault, type DocumentList } from '../../src/node.js'
import { ensureSetup, buildFeatures, CLASSES } from '../../demo/src/setup.js'
import { loadFeatures, runSweep, expand, failAbandonedRuns, type SweepSpec } from '../../demo/src/sweep.js'
import { accuracy, argmax, NearestNeighbours, SoftmaxRegression, subset } from '../../demo/src/ml.js'
import { cosine, embed, EMBEDDING_DIM } from '../../demo/src/featurise.js'
import { searchNotes } from '../../demo/src/notes.js'
import { tempDir } from './helpers.js'

/**
 * The demo's tracker logic (demo/src), through the public API on a memory vault: what the page does
 * when it loads and trains a sweep. The page itself is driven in Chromium by
 * test/browser/demo-e2e.spec.ts.
 */
const csv = readFileSync(resolve(import.meta.dirname, '../../demo/public/data/cells.csv'), 'utf8')
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0)

test('setup builds the features table from the stored module, and is idempotent', async () => {
  const vault = await openVault('demo-setup', { storage: 'memory' })
  await ensureSetup(vault, csv, 'test')
  await ensureSetup(vault, csv, 'test')
  const instances = await vault.tables.instances('features')
  assert.equal(instances.length, 1)
  assert.equal(instances[0]!.rows, 300)
  assert.equal(await (await vault.lists.get('datasets')).size(), 1)
  const data = await loadFeatures(vault)
  assert.deepEqual([data.train.y.length, data.val.y.length, data.test.y.length], [180, 60, 60])
  // z-scored on the training rows: mean 0 there.
  const mean = data.train.x.filter((_, i) => i % data.train.dim === 0).reduce((a, b) => a + b, 0) / 180
  assert.ok(Math.abs(mean) < 1e-9)
  // An edited module gives a new instance whose values follow the new code.
  await vault.code.create('feature_engineering', (await vault.code.get('feature_engineering')).replace("compactness: (4 * Math.PI", 'compactness: 0 * (4 * Math.PI'), { replace: true })
  const second = await buildFeatures(vault)
  assert.notEqual(second, data.instanceId)
  const again = await loadFeatures(vault)
  assert.ok(again.train.x.filter((_, i) => i % again.train.dim === again.train.dim - 1).every((v) => v === 0))
  await vault.close()
})

test('a sweep logs runs, per-step columns, predictions with arrays, model artifacts, lineage and searchable notes', async () => {
  const vault = await openVault('demo-sweep', { storage: 'memory' })
  await ensureSetup(vault, csv, 'test')
  const data = await loadFeatures(vault)
  const spec: SweepSpec = { name: 'sweep-1', models: ['logreg', 'knn'], learningRates: [0.5], l2: [0, 0.01], epochs: 12, ks: [5], paceMs: 0 }
  const runIds = await runSweep(vault, spec, data)
  assert.equal(runIds.length, expand(spec).length)
  const runs = (await vault.store.listRuns()).toArray().map((r) => r.toJSON())
  assert.equal(runs.length, 3)
  assert.ok(runs.every((r) => r.status === 'completed'))
  const loss = await vault.columns.get(`loss/${runIds[0]}`)
  assert.equal(await loss.length(), 12)
  const curve = (await loss.slice(0)) as Float64Array
  assert.ok(curve[11]! < curve[0]!, 'the training loss falls')
  const preds = (await vault.store.queryPredictions({ runId: runIds[0] })).toArray().map((r) => r.toJSON())
  assert.deepEqual(preds.map((p) => p.partition).sort(), ['test', 'val'])
  const val = await vault.store.getPrediction(preds.find((p) => p.partition === 'val')!.predictionId, { arrays: true })
  assert.equal(val.arrays!.yTrue!.length, 60)
  assert.equal(val.valScore, accuracy(val.arrays!.yTrue!, val.arrays!.yPred!))
  const chain = await vault.store.getChain(val.chainId)
  const model = JSON.parse(new TextDecoder().decode(await vault.store.loadArtifact(chain.foldArtifacts.fold_final!)))
  assert.equal(model.type, 'SoftmaxRegression')
  // The stored model predicts what was stored.
  const m = new SoftmaxRegression(model.dim, model.classes, model.weights)
  assert.deepEqual([...argmax(m.predictProba(data.val.x))], [...val.arrays!.yPred!])
  // Lineage: a prediction item goes back to its model, pipeline and the dataset.
  const ancestors = await vault.lineage.ancestors('predictions', { start: 0, end: 1 })
  assert.deepEqual([...new Set(ancestors.map((a) => a.list))].sort(), ['datasets', 'models', 'pipelines'])
  // Notes: one per run, found by text and by similarity.
  const notes = await vault.lists.get<DocumentList>('notes')
  assert.equal(await notes.size(), 3)
  const byText = await searchNotes(vault, 'neighbours', 'text')
  assert.equal(byText.length, 1)
  assert.match(byText[0]!.text, /knn k=5/)
  const bySimilarity = await searchNotes(vault, 'nearest neighbours voting', 'similar')
  assert.match(bySimilarity[0]!.text, /knn k=5/)
  // Top per model class through SQL.
  const top = await vault.sql(`SELECT model_class, max(val_score) AS best FROM predictions WHERE partition = 'val' GROUP BY 1 ORDER BY 1`)
  assert.deepEqual(top.toArray().map((r) => r.model_class), ['NearestNeighbours', 'SoftmaxRegression'])
  await vault.close()
})

test('a stopped run is recorded as failed and the sweep goes on; pause holds a run until resumed', async () => {
  const vault = await openVault('demo-stop', { storage: 'memory' })
  await ensureSetup(vault, csv, 'test')
  const data = await loadFeatures(vault)
  const spec: SweepSpec = { name: 's', models: ['logreg'], learningRates: [0.1, 0.2], l2: [0], epochs: 40, ks: [], paceMs: 5 }
  const sweep = runSweep(vault, spec, data)
  const running = async (name: string) => {
    for (;;) {
      const p = (await vault.processes.active()).find((x) => x.name === name && x.checkpoints > 0)
      if (p) return p
      await new Promise((r) => setTimeout(r, 5))
    }
  }
  const first = await running('train logreg lr=0.1 l2=0')
  await vault.processes.pause(first.id)
  const paused = async () => {
    // Bounded: a pause that never lands fails the test instead of hanging it.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const p = await vault.processes.get(first.id)
      if (p.status === 'paused') return p
      await new Promise((r) => setTimeout(r, 5))
    }
    throw new Error('the run did not report paused within 30 s')
  }
  const held = await paused()
  await new Promise((r) => setTimeout(r, 100))
  assert.equal((await vault.processes.get(first.id)).checkpoints, held.checkpoints, 'a paused run makes no progress')
  assert.deepEqual(await failAbandonedRuns(vault), [], 'a paused run whose holder is alive is not abandoned')
  await vault.processes.resume(first.id)
  await vault.processes.stop(first.id)
  const done = await sweep
  assert.equal(done.length, 1)
  const runs = (await vault.store.listRuns()).toArray().map((r) => r.toJSON())
  assert.deepEqual(runs.map((r) => r.status).sort(), ['completed', 'failed'])
  await vault.close()
})

test('a run whose tab went away (its lease expired) is cleaned up and recorded as failed, once', async () => {
  const path = tempDir()
  const a = await openVault('demo-abandoned', { storage: 'fs', path, processLeaseMs: 300 })
  await ensureSetup(a, csv, 'test')
  const data = await loadFeatures(a)
  const sweep = runSweep(a, { name: 's', models: ['logreg'], learningRates: [0.1], l2: [0], epochs: 500, ks: [], paceMs: 5 }, data).catch((err) => err)
  let proc
  while (!(proc = (await a.processes.active()).find((p) => p.name.startsWith('train') && p.checkpoints > 0))) await new Promise((r) => setTimeout(r, 5))
  await a.processes.pause(proc.id)
  while ((await a.processes.get(proc.id)).status !== 'paused') await new Promise((r) => setTimeout(r, 5))
  // The tab goes away: its handle closes with the run paused mid-training, its lease is not renewed.
  await a.close()
  await sweep
  const b = await openVault('demo-abandoned', { storage: 'fs', path, processLeaseMs: 300 })
  while ((await b.processes.get(proc.id)).status !== 'crashed') await new Promise((r) => setTimeout(r, 50))
  const failed = await failAbandonedRuns(b)
  assert.equal(failed.length, 1)
  const run = await b.store.getRun(failed[0]!)
  assert.equal(run.status, 'failed')
  assert.match(String(run.error), /abandoned/)
  assert.equal((await b.store.listPipelines({ runId: run.runId })).toArray()[0]!.status, 'failed')
  assert.deepEqual(await failAbandonedRuns(b), [])
  assert.deepEqual((await b.processes.active()).filter((p) => p.status === 'crashed'), [])
  await b.close()
})

test('models: logistic regression learns the dataset, k-NN with k=1 recalls its training rows', async () => {
  const vault = await openVault('demo-ml', { storage: 'memory' })
  await ensureSetup(vault, csv, 'test')
  const data = await loadFeatures(vault)
  const m = new SoftmaxRegression(data.train.dim, CLASSES.length)
  for (let i = 0; i < 200; i++) m.step(data.train, { learningRate: 0.5, l2: 0 })
  assert.ok(accuracy(data.val.y, argmax(m.predictProba(data.val.x))) > 0.7)
  const knn = new NearestNeighbours(data.train, 1, CLASSES.length)
  assert.equal(accuracy(data.train.y, argmax(knn.predictProba(data.train.x))), 1)
  await vault.close()
})

test('property: probabilities are distributions, and subset keeps rows aligned (seeded)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }),
      fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { maxLength: 30 }),
      (dim, classes, raw, weights) => {
        const rows = Math.max(1, Math.floor(raw.length / dim))
        const x = Float64Array.from({ length: rows * dim }, (_, i) => raw[i % raw.length]!)
        const w = Float64Array.from({ length: classes * (dim + 1) }, (_, i) => weights[i % Math.max(1, weights.length)] ?? 0)
        const y = Int32Array.from({ length: rows }, (_, i) => i % classes)
        const samples = { x, y, dim, ids: Int32Array.from({ length: rows }, (_, i) => 1000 + i) }
        for (const model of [new SoftmaxRegression(dim, classes, w), new NearestNeighbours(samples, 1 + (rows % 3), classes)]) {
          const { proba } = model.predictProba(x)
          for (let r = 0; r < rows; r++) {
            const row = proba.subarray(r * classes, (r + 1) * classes)
            assert.ok(row.every((p) => p >= 0 && p <= 1 + 1e-12))
            assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-9)
          }
        }
        const picked = subset(samples, [rows - 1, 0])
        assert.deepEqual([...picked.ids], [1000 + rows - 1, 1000])
        assert.deepEqual([...picked.x.subarray(0, dim)], [...x.subarray((rows - 1) * dim, rows * dim)])
      },
    ),
    { seed: SEED, numRuns: 200 },
  )
})

test('property: embeddings are deterministic, unit length (or zero), and a text is most similar to itself (seeded)', () => {
  const hostile = fc.string({ unit: fc.constantFrom('a', 'b', 'é', ' ', '\0', '😀', '\uD800', '-', '1', 'Z', '\u{10FFFF}'), maxLength: 40 })
  fc.assert(
    fc.property(hostile, hostile, (a, b) => {
      const va = embed(a)
      assert.equal(va.length, EMBEDDING_DIM)
      assert.deepEqual(va, embed(a))
      const norm = Math.sqrt(va.reduce((s, v) => s + v * v, 0))
      assert.ok(norm === 0 || Math.abs(norm - 1) < 1e-5)
      if (norm > 0) assert.ok(cosine(va, va) >= cosine(va, embed(b)) - 1e-6)
    }),
    { seed: SEED, numRuns: 300 },
  )
})
