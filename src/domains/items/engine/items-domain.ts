import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServedGroup } from '../../../engine/lazy-domain.js'
import { itemMethods } from '../shared/item-methods.js'
import { itemsSchema } from './items-schema.js'

/**
 * Item lists, and what is built on them: `lists`, `lineage`, `search`, `sessions`. One domain (one
 * schema, one name in change events) serving four names; they share one ItemsCore (the in-memory
 * search indexes of this engine).
 */
export const itemsDomain: DomainRecord<typeof itemMethods> = {
  name: 'items',
  methods: itemMethods,
  create() {
    // Its code (~130 KB of source) loads on the first call on any of the four names, all four at
    // once (docs/cold-start.md): a vault that only uses the key-value store never loads it.
    const items = lazyServedGroup(itemMethods, async () => (await import('./items-engines.js')).createItemsEngines(itemMethods))
    return { serve: items.targets }
  },
  // 2: session states; 3: appends at an explicit index (item_upserts).
  storage: { ...itemsSchema, version: 3, tablePrefixes: ['item'] },
}
