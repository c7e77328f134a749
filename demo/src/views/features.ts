// The versioned `features` table: built by the stored code module `feature_engineering` through the
// builder `features_index`. Editing the module and rebuilding makes a new instance; the list shows
// every instance, the preview the latest one's first rows.
import type { Vault } from 'labvault'
import { buildFeatures } from '../setup.js'
import { FEATURE_MODULE } from '../feature-module.js'
import { button, byId, el } from './dom.js'

/** Draw the module source (when the editor is untouched), the builder, the instances and a preview. */
export async function renderFeatures(vault: Vault): Promise<void> {
  const editor = byId<HTMLTextAreaElement>('module-source')
  if (editor.dataset.edited !== 'true') editor.value = await vault.code.get(FEATURE_MODULE)
  byId('builder-spec').textContent = await vault.tables.builders.get('features', 'features_index')
  const instances = await vault.tables.instances('features')
  byId('instances').replaceChildren(
    el('thead', {}, el('tr', {}, ...['instance', 'rows', 'columns', 'materialised', 'active'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...instances.map((i) => el('tr', {}, el('td', {}, i.instanceId), el('td', {}, String(i.rows)), el('td', {}, String(i.columns.length)), el('td', {}, i.materializedAt ? new Date(i.materializedAt).toLocaleTimeString() : ''), el('td', {}, i.active ? 'yes' : 'no')))),
  )
  const { table } = await vault.tables.get('features', { rows: 5 })
  const names = table.schema.fields.map((f) => f.name)
  const rows = table.toArray().slice(0, 5).map((r) => r.toJSON() as Record<string, unknown>)
  const show = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v))
  byId('features-preview').replaceChildren(el('thead', {}, el('tr', {}, ...names.map((n) => el('th', {}, n)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...names.map((n) => el('td', {}, show(r[n])))))))
}

/** Wire the editor: save the module (replacing it) and execute the table, making a new instance. */
export function wireFeatures(vault: Vault, after: () => void): void {
  const editor = byId<HTMLTextAreaElement>('module-source')
  editor.oninput = () => (editor.dataset.edited = 'true')
  byId('features-actions').replaceChildren(
    button(
      'Save module and rebuild',
      async () => {
        await vault.code.create(FEATURE_MODULE, editor.value, { replace: true })
        editor.dataset.edited = 'false'
        const id = await buildFeatures(vault)
        byId('features-status').textContent = `built ${id}`
        after()
      },
      { id: 'rebuild' },
    ),
  )
}
