// The vault the http storage tests serve (test/node/http-storage.test.ts, test/browser/http-storage.spec.ts):
// every domain holds something, including bulk bytes in blobs (a large kv value, column chunks, a
// file item, a store artifact), so reading it back over HTTP covers every way the engine reads files.
import type { Vault } from '../../src/shared-exports.js'

/** Values the fixture writes, for the readers to compare with. */
export const fixture = {
  /** Bytes of the large kv value (stored as a blob). */
  bigValueBytes: 3 * 1024 * 1024,
  /** Length of the f64 column `loss` (several chunks, each a blob). */
  lossLength: 1_500_000,
  artifact: new TextEncoder().encode('model weights, or so'),
  /** The large value's bytes: a pattern a reader can check anywhere. */
  bigValue(): Uint8Array {
    const out = new Uint8Array(fixture.bigValueBytes)
    for (let i = 0; i < out.length; i++) out[i] = (i * 31 + 7) & 0xff
    return out
  },
}

/** Fill a fresh vault with something in every domain; returns the ids the readers need. */
export async function fillEveryDomain(v: Vault): Promise<{ runId: string; pipelineId: string; artifactId: string; processId: string; instanceId: string }> {
  const kv = v.kv()
  await kv.set('lr', 3e-4)
  await kv.set('config', { model: 'pls', layers: [1, 2, 3], when: new Date(Date.UTC(2026, 0, 2)) })
  await kv.set('big', fixture.bigValue())
  await v.kv('settings').set('theme', 'dark')

  const loss = await v.columns.create('loss', 'f64')
  const values = new Float64Array(fixture.lossLength)
  for (let i = 0; i < values.length; i++) values[i] = i / 2
  await loss.extend(values)
  const names = await v.columns.create('names', 'str:utf8')
  await names.extend(['alpha', 'beta', 'gamma'])

  const s = await v.session('train.ts', { code: 'export const train = () => "fit the model"' })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.append('the quick brown fox', { session: s })
  await docs.append('jumps over the lazy dog', { session: s })
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 4 })
  await emb.appendMany([new Float32Array([1, 0, 0, 0]), new Float32Array([0, 1, 0, 0])], { parents: [{ list: 'docs', start: 0, end: 2 }] })
  const files = await v.lists.create('files', { type: 'file' })
  await files.append({ name: 'notes.txt', type: 'text/plain', bytes: new TextEncoder().encode('field notes') })
  // A large embedding batch: stored in one blob, read by ranges (list-kinds' vector reads).
  const wide = await v.lists.create('wide', { type: 'embedding', dim: 16 })
  await wide.appendMany(Array.from({ length: 5000 }, (_, i) => new Float32Array(16).fill(i)))
  const runs = await v.lists.create('runs', { type: 'record', fields: ['model', 'accuracy'] })
  await runs.append({ model: 'pls', accuracy: 0.91 })

  await v.tables.create('people')
  const { instanceId } = await v.tables.write('people', [{ name: 'ana', age: 31 }, { name: 'bo', age: 27 }], { dtypes: { name: 'str:utf8', age: 'i32' } })

  const runId = await v.store.beginRun('exp-1', { cv: 5 }, [{ name: 'wheat', hash: 'abc' }])
  const pipelineId = await v.store.beginPipeline(runId, { name: '0001_pls', expandedConfig: { steps: ['SNV', 'PLS'] }, datasetName: 'wheat', datasetHash: 'abc' })
  const artifactId = await v.store.saveArtifact(fixture.artifact, { operatorClass: 'PLS', artifactType: 'model', format: 'bin' })
  await v.store.completePipeline(pipelineId, { bestVal: 0.2, bestTest: 0.25, metric: 'rmse', durationMs: 12 })
  await v.store.completeRun(runId, { best: 0.2 })

  const p = await v.processes.start('worker-a')
  await p.done()
  if (instanceId === undefined) throw new Error("tables.write made no instance")
  return { runId, pipelineId, artifactId, processId: p.id, instanceId }
}
