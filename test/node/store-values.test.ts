// What the experiment store does with hostile values: scores that SQLite cannot hold (NaN, -0) and
// the extremes it can (±Infinity), what rankings do with them, and that whatever a call accepts reads
// back exactly, also after the vault is closed and replayed from its log. A seeded property test per
// kind of value; LABVAULT_PROP_SEED=<seed> replays a failure, LABVAULT_PROP_RUNS sets the runs.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, type PredictionInput, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { scaffold, vaultsOnDisk } from '../support/store-vaults.js'

const dir = tempDir('labvault-store-values-')
const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 60)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
/** A vault on disk (so it can be reopened: replayed from its log) and a function reopening it. */
const onDisk = vaultsOnDisk(dir, 'values')

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

// ---- JSON fields ------------------------------------------------------------------------------

/** Whether JSON text holds `v` exactly (the test's own oracle; Dates as ISO text, -0 as 0 are documented). */
function jsonHolds(v: unknown, seen: object[] = []): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (typeof v !== 'object') return false
  if (v instanceof Date) return !Number.isNaN(v.getTime())
  if (seen.includes(v)) return false
  if (Array.isArray(v)) {
    if (Object.keys(v).length !== v.length) return false
    return Array.from({ length: v.length }, (_, i) => i).every((i) => i in v && v[i] !== undefined && jsonHolds(v[i], [...seen, v]))
  }
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false
  if (Object.getOwnPropertySymbols(v).length > 0) return false
  return Object.values(v).every((x) => x !== undefined && jsonHolds(x, [...seen, v]))
}

class TaggedList extends Array {
  toJSON(): unknown {
    return 'something else'
  }
}

/** What an accepted value reads back as: Dates become ISO text, -0 becomes 0 (docs/store.md). */
function readBack(v: unknown): unknown {
  if (typeof v === 'number') return v === 0 ? 0 : v
  if (v instanceof Date) return v.toISOString()
  if (Array.isArray(v)) return v.map(readBack)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, readBack(x)]))
  return v
}

test('a JSON field refuses NaN, ±Infinity, undefined members, holes (InvalidArgumentError naming the field and the path) and writes nothing', async () => {
  const [v] = await onDisk()
  const s = v.store
  const probe = { lr: NaN, max: Infinity, min: -Infinity, opt: undefined, list: [1, , 3] }
  await assert.rejects(s.beginRun('r', probe as never), (e: Error) => e instanceof InvalidArgumentError && /^config\.lr is NaN/.test(e.message))
  const cases: [unknown, RegExp][] = [
    [{ lr: NaN }, /config\.lr is NaN/],
    [{ a: { max: Infinity } }, /config\.a\.max is Infinity/],
    [{ min: -Infinity }, /config\.min is -Infinity/],
    [{ opt: undefined }, /config\.opt is undefined/],
    [{ list: [1, , 3] }, /config\.list\[1\] is a hole/],
    [{ list: [1, undefined] }, /config\.list\[1\] is undefined/],
    [{ when: new Date(NaN) }, /config\.when is an invalid Date/],
    [{ tagged: Object.assign([1], { note: 'x' }) }, /config\.tagged is an array with other properties/],
    [{ [Symbol('k')]: 1 }, /config has symbol keys/],
    // An Array subclass read back as an Array, or as whatever its toJSON returned.
    [{ list: TaggedList.from([1]) }, /config\.list holds a TaggedList \(an Array subclass\)/],
    [NaN, /^config is NaN/],
  ]
  for (const [bad, message] of cases) await assert.rejects(s.beginRun('r', bad as never), (e: Error) => e instanceof InvalidArgumentError && message.test(e.message), String(message))
  assert.equal((await s.listRuns()).numRows, 0, 'no run written')
  const { runId, pipelineId, chainId } = await scaffold(v)
  // Every JSON field of the store, through each call that takes one.
  await assert.rejects(s.beginRun('r', {}, [{ name: 'd', n: NaN }] as never), /datasets\[0\]\.n is NaN/)
  await assert.rejects(s.completeRun(runId, { best: NaN }), /summary\.best is NaN/)
  await assert.rejects(s.beginPipeline(runId, { name: 'p', datasetName: 'd', expandedConfig: { alpha: Infinity } as never }), /expandedConfig\.alpha is Infinity/)
  await assert.rejects(s.beginPipeline(runId, { name: 'p', datasetName: 'd', expandedConfig: {}, generatorChoices: [1, , 2] as never }), /generatorChoices\[1\] is a hole/)
  await assert.rejects(s.beginPipeline(runId, { name: 'p', datasetName: 'd', expandedConfig: {}, originalTemplate: { x: undefined } as never }), /originalTemplate\.x is undefined/)
  await assert.rejects(s.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'M', params: { c: NaN } }] as never, modelStepIdx: 0, modelClass: 'M' }), /steps\[0\]\.params\.c is NaN/)
  await assert.rejects(s.savePrediction({ ...base(pipelineId, chainId, 'f'), scores: { val: { rmse: NaN } } as never }), /predictions\[0\]\.scores\.val\.rmse is NaN/)
  await assert.rejects(s.savePrediction({ ...base(pipelineId, chainId, 'f'), bestParams: { k: undefined } as never }), /predictions\[0\]\.bestParams\.k is undefined/)
  await assert.rejects(s.logStep(pipelineId, { event: 'fit', details: { loss: -Infinity } as never }), /details\.loss is -Infinity/)
  await assert.rejects(s.projects.create('proj', { meta: { w: NaN } as never }), /meta\.w is NaN/)
  assert.equal((await s.getRun(runId)).status, 'running', 'the run is unchanged')
  assert.equal((await s.listPipelines({ runId })).numRows, 1, 'no pipeline written')
  assert.equal((await s.chainsForPipeline(pipelineId)).numRows, 1, 'no chain written')
  assert.equal((await s.queryPredictions({ pipelineId })).numRows, 0, 'no prediction written')
  assert.equal((await s.pipelineLog(pipelineId)).length, 0, 'no log written')
  assert.equal((await s.projects.list()).length, 0, 'no project written')
  await v.close()
})

test('property: a JSON value the store accepts reads back exactly (also after reopen), one it refuses writes nothing', async () => {
  // Hostile corners: NaN, ±Infinity, ±0, undefined members and elements, holes, invalid Dates,
  // bigints, class instances, lone surrogates and odd keys ('__proto__', '', 'a.b').
  const { value } = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.constantFrom<unknown>(NaN, Infinity, -Infinity, 0, -0, undefined, null, true, false, '', '\u0000', '\ud800', Number.MAX_VALUE, Number.MIN_VALUE, new Date(0), new Date(NaN), 1n, new Map(), new Uint8Array(1)),
      fc.double(),
      fc.string({ unit: 'binary' }),
    ),
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('object')),
    array: fc.oneof(fc.array(tie('value'), { maxLength: 4 }), fc.sparseArray(tie('value'), { maxLength: 4 })),
    object: fc.dictionary(fc.oneof(fc.constantFrom('__proto__', '', 'a.b', 'lr'), fc.string({ maxLength: 4 })), tie('value'), { maxKeys: 4 }),
  }))
  const fields = ['config', 'summary', 'expandedConfig', 'scores', 'details', 'meta'] as const
  let i = 0
  await fc.assert(
    fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 3 }), value, { maxKeys: 4 }), async (obj) => {
      const field = fields[i++ % fields.length]!
      const [v, reopen] = await onDisk()
      const { runId, pipelineId, chainId } = await scaffold(v)
      const s = v.store
      const save = async (): Promise<void> => {
        switch (field) {
          case 'config': await s.beginRun('r', obj as never); return
          case 'summary': await s.completeRun(runId, obj as never); return
          case 'expandedConfig': await s.beginPipeline(runId, { name: 'p', datasetName: 'd', expandedConfig: obj as never }); return
          case 'scores': await s.savePrediction({ ...base(pipelineId, chainId, 'f'), scores: obj as never }); return
          case 'details': await s.logStep(pipelineId, { event: 'e', details: obj as never }); return
          case 'meta': await s.projects.create('proj', { meta: obj as never })
        }
      }
      const counts = async (w: Vault) => [(await w.store.listRuns()).numRows, (await w.store.listPipelines()).numRows, (await w.store.queryPredictions()).numRows, (await w.store.pipelineLog(pipelineId)).length, (await w.store.projects.list()).length, (await w.store.getRun(runId)).status]
      if (jsonHolds(obj)) {
        const want = readBack(obj)
        await save()
        const readIn = async (w: Vault): Promise<unknown> => {
          switch (field) {
            case 'config': return (await w.store.getRun((await w.store.listRuns({ limit: 1 })).get(0)!.runId as string)).config
            case 'summary': return (await w.store.getRun(runId)).summary
            case 'expandedConfig': return (await w.store.getPipeline((await w.store.listPipelines({ runId })).toArray().at(-1)!.pipelineId as string)).expandedConfig
            case 'scores': return (await w.store.getPrediction((await w.store.queryPredictions({ pipelineId })).get(0)!.predictionId as string)).scores
            case 'details': return (await w.store.pipelineLog(pipelineId))[0]!.details
            case 'meta': return (await w.store.projects.getByName('proj'))!.meta
          }
        }
        assert.deepStrictEqual(await readIn(v), want, `${field} read back`)
        await v.close()
        const again = await reopen()
        assert.deepStrictEqual(await readIn(again), want, `${field} read back after reopen`)
        await again.close()
      } else {
        const before = await counts(v)
        await assert.rejects(save(), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(field), `${field} refused`)
        assert.deepEqual(await counts(v), before, 'nothing written')
        await v.close()
        const again = await reopen()
        assert.deepEqual(await counts(again), before, 'nothing written (after reopen)')
        await again.close()
      }
    }),
    { numRuns: Math.max(12, RUNS), seed: SEED },
  ).catch((err: unknown) => {
    throw new Error(`LABVAULT_PROP_SEED=${SEED}: ${(err as Error).message}`)
  })
})

// ---- ids ---------------------------------------------------------------------------------------

/** Every call taking an id, as a function of that id, with the argument name its error gives. */
function idCalls(v: Vault, ids: { runId: string; pipelineId: string; chainId: string }): [string, RegExp, (id: string) => Promise<unknown>][] {
  const s = v.store
  return [
    ['getRun', /runId/, (id) => s.getRun(id)],
    ['completeRun', /runId/, (id) => s.completeRun(id)],
    ['failRun', /runId/, (id) => s.failRun(id, 'x')],
    ['deleteRun', /runId/, (id) => s.deleteRun(id)],
    ['beginPipeline', /runId/, (id) => s.beginPipeline(id, { name: 'p', datasetName: 'd', expandedConfig: {} })],
    ['getPipeline', /pipelineId/, (id) => s.getPipeline(id)],
    ['completePipeline', /pipelineId/, (id) => s.completePipeline(id)],
    ['saveChain', /pipelineId/, (id) => s.saveChain(id, { steps: [], modelStepIdx: 0, modelClass: 'M' })],
    ['saveChain artifactId', /steps\[0\]\.artifactId/, (id) => s.saveChain(ids.pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'M', artifactId: id }], modelStepIdx: 0, modelClass: 'M' })],
    ['saveChain foldArtifacts', /foldArtifacts\.fold_0/, (id) => s.saveChain(ids.pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'M', foldArtifacts: { fold_0: id } })],
    ['logStep', /pipelineId/, (id) => s.logStep(id, { event: 'e' })],
    ['getChain', /chainId/, (id) => s.getChain(id)],
    ['savePrediction predictionId', /predictionId/, (id) => s.savePrediction({ ...base(ids.pipelineId, ids.chainId, 'f'), predictionId: id })],
    ['savePrediction chainId', /chainId/, (id) => s.savePrediction(base(ids.pipelineId, id, 'f'))],
    ['getPrediction', /predictionId/, (id) => s.getPrediction(id)],
    ['deletePrediction', /predictionId/, (id) => s.deletePrediction(id)],
    ['queryPredictions runId', /runId/, (id) => s.queryPredictions({ runId: id })],
    ['loadArtifact', /artifactId/, (id) => s.loadArtifact(id)],
    ['getArtifact', /artifactId/, (id) => s.getArtifact(id)],
    ['projects.get', /projectId/, (id) => s.projects.get(id)],
    ['projects.delete', /projectId/, (id) => s.projects.delete(id)],
    ['setRunProject', /projectId/, (id) => s.projects.setRunProject(ids.runId, id)],
  ]
}

test('an id with a C1 control character (U+0080–U+009F) is InvalidArgumentError for every call, not NotFoundError', async () => {
  const [v] = await onDisk()
  const ids = await scaffold(v)
  for (const bad of ['a\u0085b', '\u0080x', 'x\u009f', 'a\u008db']) {
    for (const [call, arg, fn] of idCalls(v, ids)) {
      await assert.rejects(fn(bad), (e: Error) => e instanceof InvalidArgumentError && arg.test(e.message) && /control character/.test(e.message), `${call}(${JSON.stringify(bad)})`)
    }
  }
  assert.equal((await v.store.queryPredictions()).numRows, 0, 'nothing written')
  assert.equal((await v.store.getRun(ids.runId)).status, 'running', 'the run is unchanged')
  await v.close()
})

test('property: an id is refused exactly when it holds a control character (C0, DEL, C1), is padded, empty or too long', async () => {
  const [v] = await onDisk()
  const ids = await scaffold(v)
  const calls = idCalls(v, ids).filter(([call]) => ['getRun', 'getPipeline', 'getChain', 'getPrediction', 'getArtifact', 'projects.get'].includes(call))
  // Characters around the control ranges, and whitespace that trim() does and does not remove.
  const char = fc.oneof(fc.constantFrom('\u0000', '\u001f', ' ', '\u007e', '\u007f', '\u0080', '\u0085', '\u009f', '\u00a0', '\u00a1', '\u2028', 'é', '\ud83d\ude00'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }))
  await fc.assert(
    fc.asyncProperty(fc.array(char, { minLength: 0, maxLength: 12 }).map((a) => a.join('')), fc.nat(calls.length - 1), async (id, k) => {
      // The test's own oracle: C0, DEL and C1 are Unicode's control characters (general category Cc).
      const refused = id.length === 0 || id.trim() !== id || /\p{Cc}/u.test(id) || id.length > 200
      const [call, arg, fn] = calls[k]!
      if (refused) await assert.rejects(fn(id), (e: Error) => e instanceof InvalidArgumentError && arg.test(e.message), `${call}(${JSON.stringify(id)}) refused`)
      else await assert.rejects(fn(id), (e: Error) => e.name === 'NotFoundError', `${call}(${JSON.stringify(id)}) looked up`)
    }),
    { numRuns: Math.max(50, RUNS * 3), seed: SEED },
  ).catch((err: unknown) => {
    throw new Error(`LABVAULT_PROP_SEED=${SEED}: ${(err as Error).message}`)
  })
  await v.close()
})
