import type { DomainRecord } from '../../../engine/domain-record.js'
import { storeMethods } from '../shared/store-methods.js'
import { StoreEngine } from './store-engine.js'
import { STORE_SCHEMA_VERSION, storeSchema } from './store-schema.js'

/** The experiment store (nirs4all's WorkspaceStore): runs, pipelines, chains, predictions, arrays, artifacts, logs. */
export const storeDomain: DomainRecord<typeof storeMethods> = {
  name: 'store',
  methods: storeMethods,
  create() {
    return { serve: { store: new StoreEngine() } }
  },
  storage: { ...storeSchema, version: STORE_SCHEMA_VERSION, tablePrefixes: ['store_'] },
}
