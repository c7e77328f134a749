import type { MethodKind, MethodTable } from './method-table.js'
import { kvMethods } from '../domains/kv/shared/kv-methods.js'
import { itemMethods } from '../domains/items/shared/item-methods.js'
import { processMethods } from '../domains/processes/shared/process-methods.js'
import { changeMethods } from '../domains/changes/shared/change-methods.js'
import { columnMethods } from '../domains/columns/shared/column-methods.js'
import { tableMethods } from '../domains/tables/shared/tables-methods.js'
import { storeMethods } from '../domains/store/shared/store-methods.js'
import { sqlMethods } from '../domains/sql/shared/sql-methods.js'
import { archiveMethods } from '../domains/archive/shared/archive-methods.js'

export type { MethodKind, MethodTable } from './method-table.js'

/**
 * Every domain name's method table (the names `invoke` takes first), gathered from the domains'
 * `shared/` parts for the page side: tab sharing resends only reads, a read-only handle refuses
 * writes before sending them. Data only, so no engine code loads with it. The domain registry
 * (src/domains/registry.ts) checks at compile time that it names exactly the registered domains.
 */
export const domainMethods = {
  ...kvMethods,
  ...itemMethods,
  ...processMethods,
  ...changeMethods,
  ...columnMethods,
  ...tableMethods,
  ...storeMethods,
  ...sqlMethods,
  ...archiveMethods,
} satisfies Record<string, MethodTable>

/** The method kind of `domain.method`, or undefined when it cannot be invoked. */
export function methodKind(domain: string, method: string): MethodKind | undefined {
  const methods = Object.hasOwn(domainMethods, domain) ? (domainMethods as Record<string, MethodTable>)[domain]! : undefined
  return methods && Object.hasOwn(methods, method) ? methods[method] : undefined
}
