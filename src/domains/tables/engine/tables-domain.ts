import type { DomainRecord } from '../../../engine/domain-record.js'
import { tableMethods } from '../shared/tables-methods.js'
import { TablesEngine, tablesSchema } from './tables-engine.js'

/** Versioned tables built by stored code (TableVault 1): tables, instances, builders, code modules, artifacts. */
export const tablesDomain: DomainRecord<typeof tableMethods> = {
  name: 'tables',
  methods: tableMethods,
  create(services) {
    const tables = new TablesEngine()
    // Lock waits sleep until the next change; execute reports progress through processes.
    tables.attach(services)
    return { serve: { tables } }
  },
  storage: { ...tablesSchema, version: 1, tablePrefixes: ['tbl_'] },
}
