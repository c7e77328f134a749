// The demo page: an experiment tracker built on labvault's public API, bundled by Vite exactly as a
// user's app would be (the worker through Vite's `?worker` import, sql.js's wasm through `?url`,
// DuckDB's wasm copied next to the page as `labvault/`, see scripts/build.mjs).
import { configure, openVault, type Vault } from 'labvault'
import VaultWorker from 'labvault/worker?worker'
import wasmUrl from 'labvault/sql-wasm.wasm?url'
import { ensureSetup } from './src/setup.js'
import { failAbandonedRuns, loadFeatures, runSweep, type SweepSpec } from './src/sweep.js'
import { button, byId, showError, throttled } from './src/views/dom.js'
import { RunsView } from './src/views/runs.js'
import { renderCharts } from './src/views/charts.js'
import { renderProcesses } from './src/views/processes.js'
import { renderTopN } from './src/views/top-n.js'
import { renderLineage, renderLineagePicker } from './src/views/lineage.js'
import { renderFeatures, wireFeatures } from './src/views/features.js'
import { renderNotes, wireNotes } from './src/views/notes-view.js'
import { renderVaultPanel, wireArchive, wireVaultPanel } from './src/views/vault-panel.js'
import { showSampleVault } from './src/views/sample-vault.js'

/** `?vault=name` opens another vault (the end-to-end test uses a fresh one per run). */
const vaultName = new URLSearchParams(location.search).get('vault') ?? 'tracker'

/** Numbers from a comma-separated field; a clear error names the field otherwise. */
function numbers(form: HTMLFormElement, field: string, label: string): number[] {
  const text = (form.elements.namedItem(field) as HTMLInputElement).value
  const values = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number)
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) throw new Error(`${label}: give non-negative numbers separated by commas, got ${JSON.stringify(text)}`)
  return values
}

function readSweepForm(form: HTMLFormElement, sweeps: number): SweepSpec {
  const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).checked
  const models = (['logreg', 'knn'] as const).filter(checked)
  if (models.length === 0) throw new Error('Pick at least one model')
  const ks = checked('knn') ? numbers(form, 'k', 'k') : []
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) throw new Error('k: give whole numbers of at least 1')
  return {
    name: `sweep ${sweeps + 1}`,
    models: [...models],
    learningRates: checked('logreg') ? numbers(form, 'lr', 'learning rates') : [],
    l2: checked('logreg') ? numbers(form, 'l2', 'weight decay') : [],
    epochs: Math.max(1, Math.min(2000, Math.round(Number((form.elements.namedItem('epochs') as HTMLInputElement).value) || 60))),
    ks,
    paceMs: Math.max(0, Math.min(1000, Number((form.elements.namedItem('pace') as HTMLInputElement).value) || 0)),
  }
}

async function main(): Promise<void> {
  // Once for the page: every engine labvault starts (this vault's, an export's, an import's, the
  // sample vault's) uses the bundled worker and the wasm beside the page.
  const assetBase = new URL('./labvault/', location.href)
  configure({ worker: () => new VaultWorker(), wasmUrl, assetBase })
  const vault: Vault = await openVault(vaultName, { author: 'demo page' })
  ;(window as unknown as { vault: Vault }).vault = vault
  const csv = await (await fetch(new URL('./data/cells.csv', location.href))).text()
  // Two tabs opening a new vault at once would both find it empty: a Web Lock (released if its tab
  // dies) lets one set it up while the other waits, then finds it done.
  const setup = () => ensureSetup(vault, csv, 'data/cells.csv')
  await (navigator.locks ? navigator.locks.request(`labvault-demo-setup:${vaultName}`, setup) : setup())

  const refreshRuns = throttled(async () => {
    await runs.refresh()
    await renderCharts(vault, runs.plotted())
  }, 300)
  const runs = new RunsView(vault, () => void renderCharts(vault, runs.plotted()).catch(showError))
  const refreshCurves = throttled(() => renderCharts(vault, runs.plotted()), 400)
  const refreshProcesses = throttled(() => renderProcesses(vault), 150)
  const refreshTopN = throttled(() => renderTopN(vault), 500)
  const refreshLineage = throttled(async () => {
    await renderLineagePicker(vault)
    await renderLineage(vault)
  }, 400)
  const refreshFeatures = throttled(() => renderFeatures(vault), 300)
  const refreshNotes = throttled(() => renderNotes(vault), 300)
  const refreshVault = throttled(() => renderVaultPanel(vault), 2000)

  wireFeatures(vault, refreshFeatures)
  wireNotes(vault)
  wireVaultPanel(vault)
  wireArchive(vaultName)
  byId('sample-actions').replaceChildren(button('Open the sample vault', () => showSampleVault(), { id: 'open-sample' }))
  byId<HTMLSelectElement>('lineage-run').onchange = () => void renderLineage(vault).catch(showError)
  byId<HTMLInputElement>('topn-n').onchange = refreshTopN

  // Live updates: every commit, from this tab or another, refreshes the views that show its data.
  let external = 0
  await vault.watch((change) => {
    if (change.external) byId('live').textContent = `${++external} changes from other tabs`
    const d = new Set(change.domains)
    const any = (...names: string[]) => d.has('*') || names.some((n) => d.has(n))
    if (any('processes')) refreshProcesses()
    if (any('store')) (refreshRuns(), refreshTopN())
    if (any('columns')) refreshCurves()
    if (any('items')) (refreshLineage(), refreshNotes())
    if (any('tables')) refreshFeatures()
    refreshVault()
  })

  // Runs left behind by a tab that closed while training are recorded as failed, now and as
  // leases expire (a lease lasts 10 s).
  const tidy = () => failAbandonedRuns(vault).catch(showError)
  await tidy()
  setInterval(tidy, 10_000)

  let started = 0
  byId<HTMLFormElement>('sweep-form').onsubmit = async (e) => {
    e.preventDefault()
    const status = byId('sweep-status')
    let spec: SweepSpec
    try {
      // Sweeps are numbered by the store's projects (one per sweep, whichever tab ran it).
      const sweeps = Math.max((await vault.store.projects.list()).length, started++)
      spec = readSweepForm(e.target as HTMLFormElement, sweeps)
    } catch (err) {
      return showError(err)
    }
    status.textContent = `${spec.name}: loading features…`
    void (async () => {
      const data = await loadFeatures(vault)
      status.textContent = `${spec.name}: training on ${data.instanceId}`
      const done = await runSweep(vault, spec, data)
      status.textContent = `${spec.name}: ${done.length} runs completed`
      status.dataset.done = spec.name
    })().catch((err) => {
      status.textContent = `${spec.name}: failed`
      showError(err)
    })
  }

  await Promise.all([runs.refresh().then(() => renderCharts(vault, runs.plotted())), renderProcesses(vault), renderLineagePicker(vault), renderFeatures(vault), renderNotes(vault), renderVaultPanel(vault)])
  document.body.dataset.ready = 'true'
  // SQL loads DuckDB on first use: the page is usable before it arrives.
  refreshTopN()
}

main().catch((err) => {
  document.body.dataset.ready = 'error'
  showError(err)
})
