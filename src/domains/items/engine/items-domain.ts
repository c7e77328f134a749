import type { DomainRecord } from '../../../engine/domain-record.js'
import { itemMethods } from '../shared/item-methods.js'
import { ItemsCore } from './items-core.js'
import { itemsSchema } from './items-schema.js'
import { LineageEngine } from './lineage-engine.js'
import { ListsEngine } from './lists-engine.js'
import { SearchEngine } from './search-engine.js'
import { SessionsEngine } from './sessions-engine.js'

/**
 * Item lists, and what is built on them: `lists`, `lineage`, `search`, `sessions`. One domain (one
 * schema, one name in change events) serving four names; they share one {@link ItemsCore} (the
 * in-memory search indexes of this engine).
 */
export const itemsDomain: DomainRecord<typeof itemMethods> = {
  name: 'items',
  methods: itemMethods,
  create() {
    const core = new ItemsCore()
    return {
      serve: {
        lists: new ListsEngine(core),
        lineage: new LineageEngine(),
        search: new SearchEngine(core),
        sessions: new SessionsEngine(),
      },
    }
  },
  // 2: session states; 3: appends at an explicit index (item_upserts).
  storage: { ...itemsSchema, version: 3, tablePrefixes: ['item'] },
}
