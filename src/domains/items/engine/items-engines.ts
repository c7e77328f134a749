import { ItemsCore } from './items-core.js'
import { LineageEngine } from './lineage-engine.js'
import { ListsEngine } from './lists-engine.js'
import { SearchEngine } from './search-engine.js'
import { SessionsEngine } from './sessions-engine.js'

/**
 * The item domains' engine half for one engine: the objects serving `lists`, `lineage`, `search`
 * and `sessions`, sharing one {@link ItemsCore}. Loaded on the first call on any of them
 * (items-domain.ts, docs/cold-start.md).
 */
export function createItemsEngines(): { lists: ListsEngine; lineage: LineageEngine; search: SearchEngine; sessions: SessionsEngine } {
  const core = new ItemsCore()
  return { lists: new ListsEngine(core), lineage: new LineageEngine(), search: new SearchEngine(core), sessions: new SessionsEngine() }
}
