import { KvEngine, kvSchema } from './kv/engine/kv-engine.js'
import { createItemDomains, itemsSchema } from './items/engine/items-domains.js'
import type { DomainSchema } from '../engine/context.js'
import { ProcessesEngine, processesSchema } from './processes/engine/processes-engine.js'
import { ChangesEngine } from './changes/engine/changes-engine.js'
import { ColumnsEngine, columnsSchema } from './columns/engine/column-engine.js'
import { requestLogSchema } from '../engine/request-log.js'

import { domainMethods } from '../protocol/method-kinds.js'
export { domainMethods, type MethodKind } from '../protocol/method-kinds.js'

/**
 * Every domain of the engine: its name (the first argument of `invoke`), the object whose methods
 * serve it, and its schema. A new domain (columns, items, processes, …) is one line here.
 */
export function createDomains() {
  return {
    kv: new KvEngine(),
    // Item lists: `lists`, `lineage`, `search`, `sessions` (they share in-memory search indexes).
    ...createItemDomains(),
    // Processes and signals (src/processes); the change feed behind vault.watch (src/sharing).
    processes: new ProcessesEngine(),
    changes: new ChangesEngine(),
    // Typed columns (src/columns).
    columns: new ColumnsEngine(),
  }
}

/** The domains' tables, created in order when a vault is made and when an older vault lacks them. */
export const domainSchemas: Record<string, DomainSchema & { version: number }> = {
  kv: { ...kvSchema, version: 1 },
  items: { ...itemsSchema, version: 1 },
  processes: { ...processesSchema, version: 1 },
  columns: { ...columnsSchema, version: 1 },
  requests: { ...requestLogSchema, version: 1 },
}

/** The domain objects of one engine. */
export type Domains = ReturnType<typeof createDomains>
/** A domain's name. */
export type DomainName = keyof Domains

// Every domain has its list of callable methods (a compile-time check).
domainMethods satisfies Record<DomainName, unknown>
