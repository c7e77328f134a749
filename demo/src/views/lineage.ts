// Lineage: for a chosen run, walk the item lists' lineage from its predictions back to the dataset
// (`vault.lineage.ancestors`), and show each step with what the store holds for it.
import type { RecordList, Vault } from 'labvault'
import { byId, el, pct } from './dom.js'

type Rec = Record<string, unknown>

/** Fill the run picker with the runs that have predictions. */
export async function renderLineagePicker(vault: Vault): Promise<void> {
  const list = await vault.lists.get<RecordList<Rec>>('predictions')
  const items = await list.slice(0)
  const runs = [...new Set(items.map((p) => String(p.runId)))]
  const picker = byId<HTMLSelectElement>('lineage-run')
  const current = picker.value
  const names = new Map((await vault.store.listRuns({ limit: 1000 })).toArray().map((r) => [String(r.runId), String(r.name)]))
  picker.replaceChildren(el('option', { value: '' }, 'choose a run…'), ...runs.reverse().map((id) => el('option', { value: id, selected: id === current }, names.get(id) ?? id)))
}

/** Draw dataset → pipeline → model → predictions for the picked run. */
export async function renderLineage(vault: Vault): Promise<void> {
  const runId = byId<HTMLSelectElement>('lineage-run').value
  const out = byId('lineage')
  if (!runId) return void out.replaceChildren()
  const predictions = await vault.lists.get<RecordList<Rec>>('predictions')
  const items = await predictions.slice(0)
  const mine = items.flatMap((p, i) => (p.runId === runId ? [i] : []))
  if (mine.length === 0) return void out.replaceChildren()
  const start = Math.min(...mine)
  const end = Math.max(...mine) + 1
  const ancestors = await vault.lineage.ancestors('predictions', { start, end })
  const read = async (list: string) => {
    const node = ancestors.find((a) => a.list === list)
    if (!node) return []
    return (await vault.lists.get<RecordList<Rec>>(list)).slice(node.start, node.end)
  }
  const [dataset] = await read('datasets')
  const [pipeline] = await read('pipelines')
  const [model] = await read('models')
  const artifact = model ? await vault.store.getArtifact(String(model.artifactId)) : undefined
  const box = (kind: string, title: string, ...lines: string[]) => el('div', { class: 'lineage-box', 'data-kind': kind }, el('strong', {}, title), ...lines.map((l) => el('div', { class: 'small' }, l)))
  const arrow = () => el('div', { class: 'lineage-arrow' }, '→')
  out.replaceChildren(
    box('dataset', `dataset ${dataset?.name ?? '?'}`, `${dataset?.rows ?? '?'} rows`, `sha-256 ${String(dataset?.sha256 ?? '').slice(0, 12)}…`),
    arrow(),
    box('pipeline', `pipeline ${pipeline?.name ?? '?'}`, `features ${String(pipeline?.featuresInstance ?? '').slice(0, 24)}`, `id ${String(pipeline?.pipelineId ?? '').slice(0, 8)}…`),
    arrow(),
    box('model', `model ${model?.modelClass ?? '?'}`, `artifact ${String(model?.artifactId ?? '').slice(0, 12)}… (${artifact?.size ?? '?'} bytes)`, `chain ${String(model?.chainId ?? '').slice(0, 8)}…`),
    arrow(),
    box('predictions', 'predictions', ...mine.map((i) => `${items[i]!.partition}: ${pct(items[i]!.accuracy)}`)),
  )
}
