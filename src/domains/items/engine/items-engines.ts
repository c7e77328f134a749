import type { CallContext } from '../../../engine/context.js'
import type { itemMethods } from '../shared/item-methods.js'
import { ItemsCore } from './items-core.js'
import { LineageEngine } from './lineage-engine.js'
import { ListsEngine } from './lists-engine.js'
import { SearchEngine } from './search-engine.js'
import { SessionsEngine } from './sessions-engine.js'

/** Reads that do SQL again after awaiting a load (vector matrices): the calls after them wait until they settle. */
const HOLDING_READS = new Set(['search.similar', 'search.items'])

/**
 * The item domains' engine half for one engine: the objects serving `lists`, `lineage`, `search`
 * and `sessions`, sharing one {@link ItemsCore}. Loaded on the first call on any of them
 * (items-domain.ts, docs/cold-start.md). Every served method runs in the core's turns (calls in
 * arrival order, src/engine/call-turns.ts); `lists.append` takes its turn itself (its bytes go to
 * the blob store first). `table`: the items' method table, passed in by the domain's record
 * (imported here, it would tie the page build's chunks together: scripts/build.mjs).
 */
export function createItemsEngines(table: typeof itemMethods): { lists: ListsEngine; lineage: LineageEngine; search: SearchEngine; sessions: SessionsEngine } {
  const core = new ItemsCore()
  const engines = { lists: new ListsEngine(core), lineage: new LineageEngine(), search: new SearchEngine(core), sessions: new SessionsEngine() }
  for (const [served, methods] of Object.entries(table)) {
    const object = engines[served as keyof typeof engines] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    for (const [name, kind] of Object.entries(methods)) {
      if (served === 'lists' && name === 'append') continue
      const method = object[name]!
      const holds = HOLDING_READS.has(`${served}.${name}`)
      object[name] = (...args: unknown[]) => {
        const ctx = args[0] as CallContext
        const call = () => method.apply(object, args)
        // A holding read always takes a turn: the calls after it wait even when none waits before it.
        if (holds) return core.turns.after(undefined, call, true)
        return core.turns.run(call, kind === 'write' ? ctx.writesRun : undefined)
      }
    }
  }
  return engines
}
