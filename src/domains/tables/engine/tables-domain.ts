import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServed } from '../../../engine/lazy-domain.js'
import { tableMethods } from '../shared/tables-methods.js'
import { tablesSchema } from './tables-schema.js'

/** Versioned tables built by stored code (TableVault 1): tables, instances, builders, code modules, artifacts. */
export const tablesDomain: DomainRecord<typeof tableMethods> = {
  name: 'tables',
  methods: tableMethods,
  create(services) {
    // Its code (Arrow, yaml, the builders) loads on the first call (docs/cold-start.md).
    const tables = lazyServed(tableMethods.tables, async () => {
      const { TablesEngine, orderTablesCalls } = await import('./tables-engine.js')
      orderTablesCalls(tableMethods.tables)
      const engine = new TablesEngine()
      // Lock waits sleep until the next change; execute reports progress through processes.
      engine.attach(services)
      return engine
    })
    return { serve: { tables: tables.target } }
  },
  storage: { ...tablesSchema, version: 1, tablePrefixes: ['tbl_'] },
}
