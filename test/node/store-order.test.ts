/**
 * Calls made on `vault.store` take effect in the order they are made, even unawaited: every store
 * call awaits before its SQL (arrays and artifacts go to the blob store first), and a call made
 * after another must not run before it (docs/store.md, "Call order"). Seeded rounds of unawaited
 * savePrediction (with and without arrays, upserting on the fold), saveArtifact (bytes or a Blob)
 * and reads, checked against a model that applies them in call order; memory and fs.
 *
 * LABVAULT_PROP_RUNS runs (default 4); a failure prints its seed, LABVAULT_PROP_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { deleteVault, openVault, type LocationOptions, type Vault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 4)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-store-order-')
const backends: [string, LocationOptions][] = [
  ['memory', { storage: 'memory' }],
  ['fs', { storage: 'fs', path: dir }],
]

interface Model {
  /** valScore of the stored prediction of each fold. */
  folds: Map<string, number>
  /** Distinct artifact contents saved (artifacts are deduplicated by content). */
  artifacts: Set<number>
}

type Ids = { pipelineId: string; chainId: string }
type Step = { what: string; issue: (v: Vault, ids: Ids) => Promise<unknown>; expect: (m: Model) => unknown }

function step(rand: () => number, round: number, i: number): Step {
  const r = rand()
  const fold = `f${Math.floor(rand() * 4)}`
  if (r < 0.35) {
    const score = round * 100 + i
    const arrays = rand() < 0.5 ? { yTrue: new Float64Array(20_000).fill(score), yPred: new Float64Array(20_000).fill(-score) } : undefined
    return {
      what: `savePrediction(${fold}, ${score}${arrays ? ', arrays' : ''})`,
      issue: async (v, ids) => {
        await v.store.savePrediction({ ...ids, datasetName: 'w', modelName: 'm', modelClass: 'M', foldId: fold, partition: 'val', valScore: score, metric: 'rmse', ...(arrays ? { arrays } : {}) })
        return 'ok'
      },
      expect: (m) => {
        m.folds.set(fold, score)
        return 'ok'
      },
    }
  }
  if (r < 0.57) {
    const content = Math.floor(rand() * 3)
    const blob = rand() < 0.5
    return {
      what: `saveArtifact(#${content}${blob ? ' as a Blob' : ''})`,
      issue: async (v) => {
        const bytes = new Uint8Array(300_000 + content).fill(content)
        // A Blob is read on the client first: the calls made after it wait for it.
        await v.store.saveArtifact(blob ? new Blob([bytes]) : bytes, { operatorClass: 'X', artifactType: 'model', format: 'bin' })
        return 'ok'
      },
      expect: (m) => {
        m.artifacts.add(content)
        return 'ok'
      },
    }
  }
  if (r < 0.72) return { what: 'listArtifacts().length', issue: async (v) => (await v.store.listArtifacts()).length, expect: (m) => m.artifacts.size }
  if (r < 0.87) {
    return {
      what: 'queryPredictions(w) scores',
      issue: async (v) => {
        const t = await v.store.queryPredictions({ datasetName: 'w' })
        if (t.numRows === 0) return '[]'
        const folds = t.getChild('foldId')!.toArray() as string[]
        const scores = t.getChild('valScore')!.toArray() as Float64Array
        return JSON.stringify(folds.map((f, k) => [f, scores[k]]).sort())
      },
      expect: (m) => JSON.stringify([...m.folds].sort()),
    }
  }
  return {
    what: `getPrediction of ${fold}`,
    issue: async (v) => {
      const t = await v.store.queryPredictions({ datasetName: 'w', foldId: fold })
      return t.numRows
    },
    expect: (m) => (m.folds.has(fold) ? 1 : 0),
  }
}

let n = 0
for (const [backend, location] of backends) {
  test(`unawaited calls on vault.store take effect in call order: ${backend} (seed ${SEED}, ${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const name = `store-order-${++n}`
        const v = await openVault(name, location)
        try {
          const s = v.store
          const runId = await s.beginRun('r', {}, [])
          const pipelineId = await s.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'w' })
          const chainId = await s.saveChain(pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'M' })
          const rand = mulberry32(seed)
          const model: Model = { folds: new Map(), artifacts: new Set() }
          for (let round = 0; round < 3; round++) {
            const plan = Array.from({ length: 12 }, (_, i) => step(rand, round, i))
            const results = await Promise.allSettled(plan.map((st) => st.issue(v, { pipelineId, chainId })))
            plan.forEach((st, i) => {
              const res = results[i]!
              const got = res.status === 'fulfilled' ? res.value : `rejected: ${String(res.reason)}`
              assert.equal(got, st.expect(model), `seed ${seed} round ${round}: call ${i} ${st.what}\n  calls: ${plan.map((p) => p.what).join('; ')}`)
            })
          }
        } finally {
          await v.close()
          await deleteVault(name, location)
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    )
  })
}
