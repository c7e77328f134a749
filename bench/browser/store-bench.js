// Browser experiment-store benchmark (issue 11), run in headless Chromium by scripts/bench.mjs: the
// built package (engine in its worker) on OPFS. topPredictions(10, groupBy modelClass) over 100k
// predictions (the Node suite compares 200k or 1M with native DuckDB; DuckDB's wasm build is not the
// comparison here: it would be the engine, not an alternative users pick for this query).
import { median } from '../lib/stats.mjs'

const labvault = await import(/* @vite-ignore */ new URL('/dist/browser/labvault.js', location.href).href)
const { openVault, deleteVault } = labvault
const assetBase = new URL('/dist/browser/', location.href).href
const N = 100_000
const CLASSES = ['PLSRegression', 'RandomForestRegressor', 'SVR', 'XGBRegressor', 'Ridge', 'Lasso', 'KNeighborsRegressor', 'MLPRegressor', 'GaussianProcess', 'ElasticNet']

export async function runBrowserStoreBench(log = () => {}) {
  const name = 'bench-store'
  await deleteVault(name, { storage: 'opfs', assetBase }).catch(() => {})
  const v = await openVault(name, { storage: 'opfs', assetBase })
  const s = v.store
  const runId = await s.beginRun('bench', {}, [{ name: 'wheat' }])
  const pipelineId = await s.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
  const chainId = await s.saveChain(pipelineId, { steps: [], modelStepIdx: null, modelClass: 'PLS' })
  const fillStart = performance.now()
  for (let b = 0; b < N; b += 10_000) {
    await s.savePredictions(Array.from({ length: 10_000 }, (_, k) => {
      const i = b + k
      return { pipelineId, chainId, datasetName: 'wheat', modelName: `m${i % 50}`, modelClass: CLASSES[i % CLASSES.length], foldId: `fold_${i}`, partition: i % 3 === 0 ? 'test' : 'val', valScore: ((i * 2654435761) % 1000003) / 1000003, metric: 'rmse' }
    }))
  }
  const fillMs = performance.now() - fillStart
  log(`store: ${N} predictions saved in ${fillMs.toFixed(0)} ms`)
  const times = []
  for (let r = 0; r < 6; r++) {
    const t = performance.now()
    const table = await s.topPredictions(10, { groupBy: 'modelClass' })
    if (table.numRows !== 100) throw new Error(`topPredictions gave ${table.numRows} rows`)
    if (r > 0) times.push(performance.now() - t)
  }
  await v.close()
  await deleteVault(name, { storage: 'opfs', assetBase })
  return {
    environment: 'chromium',
    results: {
      [`labvault savePredictions ×${N / 1000}k scalars (batches of 10k, OPFS)`]: { median: fillMs, runs: [fillMs] },
      [`labvault topPredictions(10, groupBy modelClass) over ${N / 1000}k (OPFS, through the worker)`]: { median: median(times), runs: times },
    },
    checks: [{ figure: `topPredictions(10, groupBy modelClass) over ${N / 1000}k in Chromium (ms)`, value: median(times), bar: '(reported)', pass: true }],
  }
}
