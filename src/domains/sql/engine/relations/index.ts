import type { RelationProvider } from './relation.js'
import { kvRelations } from './kv-relation.js'
import { itemRelations } from './items-relation.js'
import { sessionRelations } from './sessions-relation.js'
import { processRelations } from './processes-relation.js'
import { columnRelations } from './columns-relation.js'

/**
 * Every relation provider, one module per domain. A domain that lands later (tables, the store) adds
 * its module and one line here.
 */
export const relationProviders: readonly RelationProvider<any>[] = [kvRelations, itemRelations, sessionRelations, processRelations, columnRelations]
