// A read-only copy of a demo vault, served by this site as plain files and opened over HTTP
// (`openVault(url, { storage: 'http' })`). The build makes it (demo/scripts/make-sample-vault.ts):
// the dataset, its features and a finished sweep. Nothing is copied into the browser's storage;
// the vault's files are fetched as they are needed, and writes are refused.
import { openVault, type Vault } from 'labvault'
import { loadRuns } from './runs.js'
import { byId, el, pct } from './dom.js'

let sample: Vault | undefined

/** Open the sample vault (once) and draw its runs, its best run per model class and a refused write. */
export async function showSampleVault(): Promise<void> {
  sample ??= await openVault('./vaults/sample/', { storage: 'http' })
  const info = await sample.info()
  const runs = await loadRuns(sample)
  const best = (await sample.store.topPredictions(1, { metric: 'valScore', ascending: false, groupBy: 'modelClass' })).toArray().map((r) => r.toJSON() as Record<string, unknown>)
  const notes = await (await sample.lists.get('notes')).size()
  let refusal = ''
  try {
    await sample.kv().set('try', 'a write')
    refusal = 'the write was accepted (it should not be)'
  } catch (err) {
    refusal = `${(err as Error).name}: ${(err as Error).message}`
  }
  byId('sample-info').textContent = `"${info.name}" (${info.description}), storage ${info.storage}, read-only ${info.readOnly}; ${runs.length} runs, ${notes} notes.`
  byId('sample-runs').replaceChildren(
    el('thead', {}, el('tr', {}, ...['run', 'status', 'val acc', 'test acc'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...runs.map((r) => el('tr', { 'data-status': r.status }, el('td', {}, r.name), el('td', {}, r.status), el('td', {}, pct(r.valAccuracy)), el('td', {}, pct(r.testAccuracy))))),
  )
  byId('sample-best').replaceChildren(...best.map((b) => el('li', {}, `${b.modelClass}: ${b.modelName} (${pct(b.valScore)} on validation)`)))
  byId('sample-write').textContent = refusal
}
