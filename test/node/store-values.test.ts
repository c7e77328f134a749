// What the experiment store does with hostile values: scores that SQLite cannot hold (NaN, -0) and
// the extremes it can (±Infinity), what rankings do with them, and that whatever a call accepts reads
// back exactly, also after the vault is closed and replayed from its log. A seeded property test per
// kind of value; LABVAULT_PROP_SEED=<seed> replays a failure, LABVAULT_PROP_RUNS sets the runs.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, openVault, type PredictionInput, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-store-values-')
const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 60)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
let counter = 0

/** A vault on disk (so it can be reopened: replayed from its log) and a function reopening it. */
async function onDisk(): Promise<[Vault, () => Promise<Vault>]> {
  const name = `values-${++counter}`
  return [await openVault(name, { storage: 'fs', path: dir }), () => openVault(name, { storage: 'fs', path: dir })]
}

async function scaffold(v: Vault) {
  const runId = await v.store.beginRun('r')
  const pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'd' })
  const chainId = await v.store.saveChain(pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'M' })
  return { runId, pipelineId, chainId }
}

const base = (pipelineId: string, chainId: string, foldId: string): PredictionInput => ({ pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId, partition: 'val' })

/** The score as the store keeps it: -0 is 0 (docs/store.md). */
const stored = (x: number | null) => (x === 0 ? 0 : x)

test('a NaN score, rate or duration is InvalidArgumentError naming it, and nothing is written', async () => {
  const [v] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const s = v.store
  for (const field of ['valScore', 'testScore', 'trainScore', 'exclusionRate'] as const) {
    await assert.rejects(s.savePrediction({ ...base(pipelineId, chainId, 'f'), [field]: NaN }), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(field) && /NaN/.test(e.message), field)
  }
  // In a batch, the good record is not written either (one commit or none).
  await assert.rejects(s.savePredictions([{ ...base(pipelineId, chainId, 'ok'), valScore: 1 }, { ...base(pipelineId, chainId, 'bad'), valScore: NaN }]), /predictions\[1\]\.valScore/)
  assert.equal((await s.queryPredictions({ pipelineId })).numRows, 0, 'nothing saved')
  await assert.rejects(s.completePipeline(pipelineId, { bestVal: NaN }), (e: Error) => e instanceof InvalidArgumentError && /bestVal/.test(e.message))
  await assert.rejects(s.completePipeline(pipelineId, { bestTest: NaN }), (e: Error) => e instanceof InvalidArgumentError && /bestTest/.test(e.message))
  assert.equal((await s.getPipeline(pipelineId)).status, 'running', 'the pipeline is unchanged')
  await assert.rejects(s.logStep(pipelineId, { event: 'fit', durationMs: NaN }), (e: Error) => e instanceof InvalidArgumentError && /durationMs/.test(e.message))
  assert.equal((await s.pipelineLog(pipelineId)).length, 0, 'no log entry')
  await v.close()
})

test('±Infinity scores read back exactly (also after reopen), -0 reads back as 0; rankings put the infinities at the ends', async () => {
  const [v, reopen] = await onDisk()
  const { pipelineId, chainId } = await scaffold(v)
  const s = v.store
  const [lo, mid, hi, zero] = await s.savePredictions([
    { ...base(pipelineId, chainId, 'lo'), valScore: -Infinity, testScore: Infinity, trainScore: -0, exclusionRate: Infinity },
    { ...base(pipelineId, chainId, 'mid'), valScore: 0.5 },
    { ...base(pipelineId, chainId, 'hi'), valScore: Infinity },
    { ...base(pipelineId, chainId, 'zero'), valScore: -0 },
    { ...base(pipelineId, chainId, 'none'), valScore: null },
  ])
  await s.completePipeline(pipelineId, { bestVal: -Infinity, bestTest: Infinity, durationMs: Infinity })
  const check = async (w: Vault, when: string) => {
    const p = await w.store.getPrediction(lo!)
    assert.equal(p.valScore, -Infinity, when)
    assert.equal(p.testScore, Infinity, when)
    assert.ok(Object.is(p.trainScore, 0), `${when}: -0 reads back as 0`)
    assert.equal(p.exclusionRate, Infinity, when)
    const pl = await w.store.getPipeline(pipelineId)
    assert.deepEqual([pl.bestVal, pl.bestTest, pl.durationMs], [-Infinity, Infinity, Infinity], `${when}: the pipeline's scores`)
    const asc = (await w.store.topPredictions(10)).toArray().map((r) => r.predictionId as string)
    assert.deepEqual(asc, [lo, zero, mid, hi], `${when}: ascending, -Infinity first, +Infinity last, no score left out`)
    const desc = (await w.store.topPredictions(10, { ascending: false })).toArray().map((r) => r.predictionId as string)
    assert.deepEqual(desc, [hi, mid, zero, lo], `${when}: descending`)
  }
  await check(v, 'before reopen')
  await v.close()
  const again = await reopen()
  await check(again, 'after reopen')
  await again.close()
})

test('property: any score is kept exactly (-0 as 0) or refused (NaN) writing nothing, after reopen too; rankings equal a JS sort', async () => {
  // Hostile corners first: NaN (with other payloads), ±Infinity, ±0, the extremes and subnormals.
  const score = fc.oneof(
    fc.constantFrom(NaN, -NaN, Infinity, -Infinity, 0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** -1074, 1e308, null),
    fc.double(),
  )
  const record = fc.record({ val: score, test: score, train: score, rate: score })
  await fc.assert(
    fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 8 }), async (records) => {
      const [v, reopen] = await onDisk()
      const { pipelineId, chainId } = await scaffold(v)
      const kept: { id: string; r: (typeof records)[number] }[] = []
      for (const [i, r] of records.entries()) {
        const p: PredictionInput = { ...base(pipelineId, chainId, `f${i}`), valScore: r.val, testScore: r.test, trainScore: r.train, exclusionRate: r.rate }
        if ([r.val, r.test, r.train, r.rate].some((x) => x !== null && Number.isNaN(x))) {
          await assert.rejects(v.store.savePrediction(p), InvalidArgumentError)
          continue
        }
        kept.push({ id: await v.store.savePrediction(p), r })
      }
      const check = async (w: Vault) => {
        assert.equal((await w.store.queryPredictions({ pipelineId })).numRows, kept.length, 'only the accepted records were written')
        for (const { id, r } of kept) {
          const p = await w.store.getPrediction(id)
          for (const [got, want] of [[p.valScore, r.val], [p.testScore, r.test], [p.trainScore, r.train], [p.exclusionRate, r.rate]] as const) {
            assert.ok(Object.is(got, stored(want)), `${String(got)} read back for ${String(want)}`)
          }
        }
        for (const ascending of [true, false]) {
          const got = (await w.store.topPredictions(100, { ascending })).toArray().map((t) => t.predictionId as string)
          const want = kept.filter((k) => k.r.val !== null).sort((a, b) => {
            const d = a.r.val! === b.r.val! ? 0 : (a.r.val! < b.r.val! ? -1 : 1) * (ascending ? 1 : -1)
            return d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
          })
          assert.deepEqual(got, want.map((k) => k.id), `ranking, ascending ${ascending}`)
        }
      }
      await check(v)
      await v.close()
      const again = await reopen()
      await check(again)
      await again.close()
    }),
    { numRuns: Math.max(10, Math.floor(RUNS / 3)), seed: SEED },
  ).catch((err: unknown) => {
    throw new Error(`LABVAULT_PROP_SEED=${SEED}: ${(err as Error).message}`)
  })
})
