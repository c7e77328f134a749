// Set-up the experiment store's Node tests share: vaults on disk that can be reopened (replayed
// from their log), and the run → pipeline → chain a prediction needs.
import { openVault, type Vault } from '../../src/node.js'

/** `onDisk()` opens a new vault under `dir` (names `<prefix>-1`, `-2`, …) and a function reopening it. */
export function vaultsOnDisk(dir: string, prefix: string): () => Promise<[Vault, () => Promise<Vault>]> {
  let counter = 0
  return async () => {
    const name = `${prefix}-${++counter}`
    return [await openVault(name, { storage: 'fs', path: dir }), () => openVault(name, { storage: 'fs', path: dir })]
  }
}

/** A run, a pipeline of dataset `d` in it and an empty chain: what a prediction is saved under. */
export async function scaffold(v: Vault): Promise<{ runId: string; pipelineId: string; chainId: string }> {
  const runId = await v.store.beginRun('r')
  const pipelineId = await v.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'd' })
  const chainId = await v.store.saveChain(pipelineId, { steps: [], modelStepIdx: 0, modelClass: 'M' })
  return { runId, pipelineId, chainId }
}
