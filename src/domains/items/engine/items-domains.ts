import { ItemsCore } from './items-core.js'
import { LineageEngine } from './lineage-engine.js'
import { ListsEngine } from './lists-engine.js'
import { SearchEngine } from './search-engine.js'
import { SessionsEngine } from './sessions-engine.js'

export { itemsSchema } from './items-schema.js'

/**
 * The engine domains of item lists: `lists`, `lineage`, `search`, `sessions`. They share one
 * {@link ItemsCore} (the in-memory search indexes of this engine).
 */
export function createItemDomains() {
  const core = new ItemsCore()
  return {
    lists: new ListsEngine(core),
    lineage: new LineageEngine(),
    search: new SearchEngine(core),
    sessions: new SessionsEngine(),
  }
}
