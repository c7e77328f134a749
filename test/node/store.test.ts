// The experiment store in Node only: several processes saving into one run, the store's schema
// version (a vault made by a newer build is refused and left untouched; one made before the store
// existed gains it with its data intact), and a seeded property test of upserts and deletes. The
// environment-neutral cases are in test/conformance/store-conformance.ts.
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, UnsupportedError, openVault, type PredictionInput } from '../../src/node.js'
import { inProcessPort } from '../../src/client/in-process-port.js'
import { Vault } from '../../src/client/vault.js'
import { VaultEngine } from '../../src/engine/vault-engine.js'
import { standardDomains } from '../../src/domains/registry.js'
import { storeDomain } from '../../src/domains/store/engine/store-domain.js'
import { NodeFsAdapter } from '../../src/storage/node-fs-adapter.js'
import { arraysOf } from './fixtures/store-plan.js'
import { startStoreChild } from './store-helpers.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-store-')
let counter = 0
const nextName = () => `store-${++counter}`

/** Every file under `root` with its bytes (to show nothing was touched). */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else out.set(p, readFileSync(p).toString('base64'))
    }
  }
  walk(root)
  return out
}

describe('store: processes and schema versions', () => {
  test('4 processes saving predictions into one run: every one present, ids distinct, arrays intact', { timeout: 120_000 }, async () => {
    const name = nextName()
    const v = await openVault(name, { storage: 'fs', path: dir })
    const runId = await v.store.beginRun('shared', {}, [{ name: 'wheat' }])
    const pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
    const chainId = await v.store.saveChain(pipelineId, { steps: [], modelStepIdx: null, modelClass: 'PLS' })
    await v.close()
    const batches = 10
    const batchSize = 5
    const children = [0, 1, 2, 3].map((i) => startStoreChild({ dir, name, action: 'save', runId, pipelineId, chainId, tag: `c${i}`, batches, batchSize }))
    const acked: string[] = []
    for (const c of children) {
      for (let b = 0; b < batches; b++) acked.push(...((await c.next('ack')).ids as string[]))
      await c.next('done')
    }
    assert.equal(new Set(acked).size, 4 * batches * batchSize, 'every id distinct')
    const w = await openVault(name, { storage: 'fs', path: dir })
    const rows = (await w.store.queryPredictions({ runId })).toArray()
    assert.equal(rows.length, 4 * batches * batchSize, 'every prediction present')
    assert.deepEqual(new Set(rows.map((r) => r.predictionId)), new Set(acked), 'exactly the acknowledged ones')
    const arrays = await w.store.arrays.load(acked)
    for (const r of rows) {
      const [, b, i] = (r.foldId as string).split('-').map(Number)
      assert.deepEqual(arrays.get(r.predictionId as string)!.yTrue, arraysOf(b! * 1000 + i!, 50).yTrue, `arrays of ${r.foldId}`)
    }
    await w.close()
  })

  test('a vault whose store is newer than this build is refused at open (UnsupportedError naming the store), files untouched', async () => {
    const name = nextName()
    const v0 = await openVault(name, { storage: 'fs', path: dir })
    await v0.kv().set('other domains', 'work')
    await v0.close()
    // A newer build's store wrote it: its version row says 99. Opening it with this build could
    // misread its rows, or collect blobs its newer tables refer to, so the whole vault is refused
    // (src/engine/vault-engine.ts, refuseNewerSchemas), read-only too.
    const future = { ...storeDomain, storage: { ...storeDomain.storage!, version: 99 } }
    const engine = await VaultEngine.open({ name, storage: new NodeFsAdapter(dir), ownsStorage: true, domains: standardDomains.map((d) => (d === storeDomain ? future : d)) })
    await engine.close()
    const before = snapshot(join(dir, name))
    await assert.rejects(openVault(name, { storage: 'fs', path: dir }), (err: Error) => err instanceof UnsupportedError && /store data has version 99, this build reads up to 1/.test(err.message))
    await assert.rejects(openVault(name, { storage: 'fs', path: dir, readOnly: true }), UnsupportedError)
    assert.deepEqual(snapshot(join(dir, name)), before, 'not a byte changed')
  })

  test('a vault made before the store existed gains it on open, with its data intact', async () => {
    const name = nextName()
    // An "older build": every domain but the store.
    const engine = await VaultEngine.open({ name, storage: new NodeFsAdapter(dir), ownsStorage: true, domains: standardDomains.filter((d) => d !== storeDomain) })
    const old = new Vault(inProcessPort(engine), name)
    await old.kv().set('k', 1)
    await (await old.lists.create('notes', { type: 'document' })).append('kept')
    await old.close()
    const v = await openVault(name, { storage: 'fs', path: dir })
    assert.deepEqual(await v.store.schemaVersion(), { stored: 1, supported: 1 }, 'migrated at open')
    assert.equal(await v.kv().get('k'), 1, 'key-value data intact')
    assert.equal(await (await v.lists.get('notes')).get(0), 'kept', 'item lists intact')
    const runId = await v.store.beginRun('new', { a: 1 }, [])
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal((await again.store.getRun(runId)).name, 'new', 'the migrated store keeps what it is given')
    await again.close()
  })
})

describe('store: property', () => {
  test('any sequence of upserts and deletes: one prediction per natural key, the last scores and arrays win', async () => {
    const v = await openVault(nextName(), { storage: 'memory' })
    const s = v.store
    const key = fc.record({ fold: fc.constantFrom('fold_0', 'fold_1', ' odd fold ', 'fold_é'), partition: fc.constantFrom('val', 'test'), branch: fc.constantFrom(null, 0, 1, -1) })
    const op = fc.oneof(
      fc.record({ kind: fc.constant('save' as const), key, score: fc.oneof(fc.double(), fc.constant(null)), arrays: fc.option(fc.array(fc.double(), { maxLength: 40 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant('delete' as const), key }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        // A fresh run each time (deleted at the end: the runs must not see each other).
        const r = await s.beginRun('prop', {}, [])
        const p = await s.beginPipeline(r, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
        const c = await s.saveChain(p, { steps: [], modelStepIdx: null, modelClass: 'PLS' })
        // An anchor the sequence never deletes: deleting a chain's last prediction prunes the chain.
        await s.savePrediction({ pipelineId: p, chainId: c, datasetName: 'wheat', modelName: 'anchor', modelClass: 'PLS', foldId: 'anchor', partition: 'val' })
        const model = new Map<string, { id: string; score: number | null; arrays: number[] | undefined }>()
        for (const o of ops) {
          const k = JSON.stringify(o.key)
          if (o.kind === 'save') {
            const record: PredictionInput = { pipelineId: p, chainId: c, datasetName: 'wheat', modelName: 'm', modelClass: 'PLS', foldId: o.key.fold, partition: o.key.partition, branchId: o.key.branch, valScore: o.score, arrays: o.arrays ? { yTrue: o.arrays } : undefined }
            if (o.score !== null && Number.isNaN(o.score)) {
              // SQLite has no NaN (it would read back as null): refused, the stored prediction unchanged.
              await assert.rejects(s.savePrediction(record), InvalidArgumentError)
              continue
            }
            const id = await s.savePrediction(record)
            const prev = model.get(k)
            if (prev) assert.equal(id, prev.id, 'an upsert returns the first id')
            model.set(k, { id, score: o.score, arrays: o.arrays ?? prev?.arrays })
          } else {
            const prev = model.get(k)
            if (prev) {
              assert.equal(await s.deletePrediction(prev.id), true)
              model.delete(k)
            }
          }
        }
        const rows = (await s.queryPredictions({ runId: r })).toArray()
        assert.equal(rows.length, model.size + 1, 'one prediction per key (and the anchor)')
        const arrays = await s.arrays.load([...model.values()].map((m) => m.id))
        for (const m of model.values()) {
          const row = rows.find((x) => x.predictionId === m.id)!
          // -0 is stored as 0 (docs/store.md); Object.is also tells the two apart.
          const want = m.score === 0 ? 0 : m.score
          assert.ok(Object.is(row.valScore, want), `score of ${m.id}: ${String(row.valScore)} vs ${String(want)}`)
          assert.deepEqual(arrays.get(m.id)?.yTrue, m.arrays ? Float64Array.from(m.arrays) : undefined, `arrays of ${m.id}`)
        }
        const stats = await s.arrays.stats()
        assert.equal(stats.rows, [...model.values()].filter((m) => m.arrays).length, 'live array rows match live predictions with arrays')
        await s.deleteRun(r)
      }),
      { numRuns: 40, seed: Number(process.env.STORE_PROPERTY_SEED ?? 20261130) },
    )
    await v.close()
  })

  test('topPredictions equals a sort in JS for any scores, groups and ties (n per group, NULLs left out)', async () => {
    const v = await openVault(nextName(), { storage: 'memory' })
    const s = v.store
    const row = fc.record({ branch: fc.constantFrom(null, 0, 1, 2), cls: fc.constantFrom('A', 'B', 'b', 'é', ''), score: fc.oneof(fc.constant(null), fc.constantFrom(0, -0, 1, 0.5), fc.double({ noNaN: true })), partition: fc.constantFrom('val', 'test') })
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.constantFrom(undefined, 'modelClass', 'branchId'), async (rows, n, ascending, groupBy) => {
        const r = await s.beginRun('top', {}, [])
        const p = await s.beginPipeline(r, { name: 'p', expandedConfig: {}, datasetName: 'd' })
        const c = await s.saveChain(p, { steps: [], modelStepIdx: null, modelClass: 'X' })
        const ids = await s.savePredictions(rows.map((x, i) => ({ pipelineId: p, chainId: c, datasetName: 'd', modelName: 'm', modelClass: x.cls || 'empty', foldId: `f${i}`, partition: x.partition, branchId: x.branch, valScore: x.score })))
        const got = (await s.topPredictions(n, { ascending, groupBy: groupBy as 'modelClass' | 'branchId' | undefined })).toArray().filter((t) => t.runId === r).map((t) => t.predictionId as string)
        const live = rows.map((x, i) => ({ ...x, cls: x.cls || 'empty', id: ids[i]! })).filter((x) => x.partition === 'val' && x.score !== null)
        const order = (a: typeof live[number], b: typeof live[number]) => (a.score! - b.score!) * (ascending ? 1 : -1) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
        let want: string[]
        if (!groupBy) want = live.sort(order).slice(0, n).map((x) => x.id)
        else {
          const key = (x: typeof live[number]) => (groupBy === 'modelClass' ? x.cls : x.branch)
          const groups = [...new Set(live.map(key))].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0))
          want = groups.flatMap((g) => live.filter((x) => key(x) === g).sort(order).slice(0, n).map((x) => x.id))
        }
        assert.deepEqual(got, want)
        await s.deleteRun(r)
      }),
      { numRuns: 60, seed: Number(process.env.STORE_PROPERTY_SEED ?? 20261130) },
    )
    await v.close()
  })
})
