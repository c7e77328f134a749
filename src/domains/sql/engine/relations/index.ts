import type { RelationProvider } from './relation.js'
import { kvRelations } from './kv-relation.js'
import { itemRelations } from './items-relation.js'
import { sessionRelations } from './sessions-relation.js'
import { processRelations } from './processes-relation.js'
import { columnRelations } from './columns-relation.js'
import { tableRelations } from './tables-relation.js'
import { storeRelations } from './store-relation.js'

/**
 * Every relation provider, one module per domain: a new domain adds its module and one line here.
 */
export const relationProviders: readonly RelationProvider<any>[] = [kvRelations, itemRelations, sessionRelations, processRelations, columnRelations, tableRelations, ...storeRelations]
