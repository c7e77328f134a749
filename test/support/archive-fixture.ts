// Data in every domain of a vault, and a dump of it through the public API: the export/import tests
// fill a vault, move it through an archive (Node ↔ Chromium), and compare the dumps. Environment-
// neutral (no node: imports, types only from src/): a page can run it from the built package.
import type { Vault } from '../../src/shared-exports.js'

/** Write something into every domain: kv (two namespaces, a byte key, a value in a blob), columns (one large enough for blob chunks), item lists of each type with lineage, a versioned table, the experiment store with arrays and an artifact. */
export async function fillEveryDomain(v: Vault, seed = 1): Promise<void> {
  const big = new Uint8Array(300 * 1024).map((_, i) => (i * 31 + seed) & 0xff)
  await v.kv().setMany([
    ['lr', 3e-4 * seed],
    ['name', `run-${seed}`],
    ['nested', { a: [1, 2, { b: null }], when: new Date(Date.UTC(2025, 0, seed)), tags: new Set(['x', 'y']) }],
    ['big', big],
    ['bigint', 2n ** 70n + BigInt(seed)],
  ])
  await v.kv().set(new Uint8Array([0, 1, seed & 0xff]), 'byte key')
  await v.kv('settings').set('theme', 'dark')
  const loss = await v.columns.create('loss', 'f64')
  await loss.extend(Float64Array.from({ length: 70_000 }, (_, i) => Math.sin(i + seed)))
  const names = await v.columns.create('label', 'str:utf8')
  await names.extend(['a', 'é', '😀', ''])
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['first doc', 'second doc about zips', `third ${seed}`])
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 4 })
  await emb.appendMatrix(Float32Array.from({ length: 12 }, (_, i) => i / (seed + 1)), { parents: [{ list: 'docs', start: 0, end: 3 }] })
  const recs = await v.lists.create('runs', { type: 'record', fields: ['model', 'accuracy'] })
  await recs.append({ model: 'rf', accuracy: 0.5 + seed / 100 })
  const files = await v.lists.create('files', { type: 'file' })
  await files.append({ name: 'notes.txt', type: 'text/plain', bytes: new TextEncoder().encode(`notes ${seed}`) } as never)
  await v.tables.create('scores', {})
  await v.tables.write('scores', { model: ['rf', 'svm'], score: [0.5, 0.75 + seed] })
  const s = v.store
  const runId = await s.beginRun('r', { seed }, [])
  const pipelineId = await s.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'd' })
  const artifactId = await s.saveArtifact(new TextEncoder().encode(`model bytes ${seed}`), { operatorClass: 'M', artifactType: 'model', format: 'bin' })
  const chainId = await s.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'M', artifactId }], modelStepIdx: 0, modelClass: 'M' })
  await s.savePrediction({ predictionId: 'pred-1', pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId: 'fold_0', partition: 'val', valScore: 0.125 * seed, arrays: { yTrue: [1, 2], yPred: [1.5, 2.5 + seed] } })
  await s.completeRun(runId, { ok: true })
}

function rows(table: { toArray(): { toJSON(): unknown }[] }): unknown[] {
  return table.toArray().map((r) => r.toJSON())
}

/** Everything {@link fillEveryDomain} wrote, read back through the public API (plain data, comparable with deepEqual). */
export async function dumpEveryDomain(v: Vault): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  out.kv = await v.kv().entries()
  out.settings = await v.kv('settings').entries()
  const columns = await v.columns.list()
  out.columns = columns
  for (const c of columns) out[`column:${c.name}`] = await (await v.columns.get(c.name)).slice(0)
  const lists = await v.lists.list()
  out.lists = lists.map((l) => ({ name: l.name, type: l.type, length: l.length }))
  for (const l of lists) {
    const list = await v.lists.get(l.name)
    out[`list:${l.name}`] = l.type === 'file' ? await (list as unknown as { bytes(i: number): Promise<Uint8Array> }).bytes(0) : await list.slice(0)
  }
  out.lineage = await v.lineage.parents('emb', { start: 0, end: 3 })
  out.tables = (await v.tables.list()).map((t) => t.name)
  out.scores = rows((await v.tables.get('scores')).table)
  out.runs = rows(await v.store.listRuns({})).map((r) => ({ ...(r as object), created_at: undefined, completed_at: undefined }))
  const prediction = await v.store.getPrediction('pred-1', { arrays: true })
  out.prediction = prediction
  const chain = (await v.store.getChain(prediction.chainId as string)) as { steps: { artifactId?: string }[] }
  out.artifact = await v.store.loadArtifact(chain.steps[0]!.artifactId!)
  return out
}
