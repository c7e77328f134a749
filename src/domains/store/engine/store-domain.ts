import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServed } from '../../../engine/lazy-domain.js'
import { storeMethods } from '../shared/store-methods.js'
import { STORE_SCHEMA_VERSION, storeSchema } from './store-schema.js'

/** The experiment store (nirs4all's WorkspaceStore): runs, pipelines, chains, predictions, arrays, artifacts, logs. */
export const storeDomain: DomainRecord<typeof storeMethods> = {
  name: 'store',
  methods: storeMethods,
  create() {
    // Its code (Arrow among it) loads on the first call (docs/cold-start.md).
    const store = lazyServed(storeMethods.store, async () => {
      const { StoreEngine, orderStoreCalls } = await import('./store-engine.js')
      orderStoreCalls(Object.keys(storeMethods.store))
      return new StoreEngine()
    })
    return { serve: { store: store.target } }
  },
  storage: { ...storeSchema, version: STORE_SCHEMA_VERSION, tablePrefixes: ['store_'] },
}
