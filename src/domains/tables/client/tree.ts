import { known } from './call-options.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import type { TreeOptions, VaultTree } from '../shared/table-types.js'

/** `vault.tree()`: the structure as data, and `text`, a rendering of it (like TableVault's file tree). */
export type VaultTreeResult = VaultTree & { text: string }

/** Render a tree as indented text: code modules, then each table with its instances. */
export function renderTree(name: string, description: string, tree: VaultTree, options: TreeOptions): string {
  const lines = [description ? `${name} — ${description}` : name]
  const add = (depth: number, text: string) => lines.push(`${'  '.repeat(depth)}${text}`)
  if (options.code !== false) {
    add(1, 'code')
    for (const c of tree.code) add(2, c)
  }
  add(1, 'tables')
  for (const t of tree.tables) {
    add(2, t.description ? `${t.name} — ${t.description}` : t.name)
    if (t.artifacts) {
      add(3, 'artifacts')
      for (const a of t.artifacts) add(4, a)
    }
    for (const i of t.instances) {
      const flags = [i.temporary ? 'temporary' : i.active ? 'active' : 'inactive', `${i.rows} rows`].join(', ')
      add(3, `${i.instanceId} (${flags})${i.description ? ` — ${i.description}` : ''}`)
      if (i.builders && i.builders.length > 0) {
        add(4, 'builders')
        for (const b of i.builders) add(5, b)
      }
      if (i.artifacts && i.artifacts.length > 0) {
        add(4, 'artifacts')
        for (const a of i.artifacts) add(5, a)
      }
    }
  }
  return lines.join('\n')
}

/** The vault's tree as data and text. */
export async function vaultTree(caller: DomainCaller, name: string, description: string, options: TreeOptions = {}): Promise<VaultTreeResult> {
  options = known(options, ['code', 'builders', 'artifacts'], 'vault.tree')
  const tree = (await caller.call('tables', 'tree', [options])) as VaultTree
  return { ...tree, text: renderTree(name, description, tree, options) }
}
