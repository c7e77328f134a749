import { expect, test, type Page } from '@playwright/test'

// Parquet exports in Chromium, from the built package (and `{ path }`, Node only, refused clearly): zstd's wasm is fetched on the first export
// (beside labvault.js, or under assetBase), also when the package comes from another origin as a
// notebook's CDN import. The store's export and replay cases run in test/conformance/store-io-conformance.ts.

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    cdnBase?: string
  }
}

async function harness(page: Page, path: string): Promise<void> {
  await page.goto(path)
  await page.waitForFunction(() => window.harnessReady === true)
}

async function exportAndRead(page: Page, vaultName: string, openOptions: Record<string, unknown>, parquet: Record<string, unknown> = {}) {
  return page.evaluate(async ([name, opts, pq]) => {
    const { openVault, deleteVault, readParquetRows } = window.labvault
    await deleteVault(name, opts)
    const v = await openVault(name, opts)
    try {
      const runId = await v.store.beginRun('r', {}, [])
      const pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'd' })
      const chainId = await v.store.saveChain(pipelineId, { steps: [{ stepIdx: 0, operatorClass: 'M' }], modelStepIdx: 0, modelClass: 'M' })
      await v.store.savePrediction({ pipelineId, chainId, datasetName: 'd', modelName: 'm', modelClass: 'M', foldId: 'fold_0', partition: 'val', valScore: 0.125, arrays: { yTrue: [1, 2], yPred: [1.5, 2.5] } })
      let bytes: Uint8Array
      try {
        bytes = await v.store.exportPredictionsParquet({}, { arrays: true, parquet: pq })
      } catch (e) {
        return { error: `${(e as Error).name}: ${(e as Error).message}` }
      }
      let pathRefused = ''
      try {
        await v.store.exportRun(runId, { path: 'run.yaml' })
      } catch (e) {
        pathRefused = `${(e as Error).name}: ${(e as Error).message}`
      }
      const magic = new TextDecoder().decode(bytes.slice(0, 4)) + new TextDecoder().decode(bytes.slice(-4))
      const rows = await readParquetRows(bytes)
      return { magic, rows: rows.map((r) => [r.val_score, r.y_true, r.y_pred]), pathRefused: pathRefused.startsWith('UnsupportedError: writing an export to a path works on Node only') }
    } finally {
      await v.close()
    }
  }, [vaultName, openOptions, parquet] as const)
}

test('a page exports predictions as zstd Parquet; a wrong zstdWasm is a clear UnsupportedError, then the default works', async ({ page }) => {
  await harness(page, '/dist-test/harness.html')
  const bad = await exportAndRead(page, 'pq-bad', { storage: 'opfs' }, { zstdWasm: '/no-such-zstd.wasm' })
  expect(bad.error).toMatch(/^UnsupportedError: zstd's wasm could not be loaded from \/no-such-zstd\.wasm/)
  const good = await exportAndRead(page, 'pq-good', { storage: 'indexeddb' })
  expect(good).toEqual({ magic: 'PAR1PAR1', rows: [[0.125, [1, 2], [1.5, 2.5]]], pathRefused: true })
})

test('imported from another origin (a CDN), with and without assetBase, the export finds zstd.wasm', async ({ page }) => {
  await harness(page, '/dist-test/cdn.html')
  const base = await page.evaluate(() => window.cdnBase!)
  const expected = { magic: 'PAR1PAR1', rows: [[0.125, [1, 2], [1.5, 2.5]]], pathRefused: true }
  expect(await exportAndRead(page, 'pq-cdn-assetbase', { assetBase: base })).toEqual(expected)
  await harness(page, '/dist-test/cdn.html')
  expect(await exportAndRead(page, 'pq-cdn-default', {})).toEqual(expected)
})
