import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServed } from '../../../engine/lazy-domain.js'
import { columnMethods } from '../shared/column-methods.js'
import { columnsSchema } from './columns-schema.js'

/** Typed columns: growable arrays of one dtype stored in chunks, large chunks in the blob store. */
export const columnsDomain: DomainRecord<typeof columnMethods> = {
  name: 'columns',
  methods: columnMethods,
  create() {
    // Its code loads on the first call (docs/cold-start.md).
    const columns = lazyServed(columnMethods.columns, async () => new (await import('./column-engine.js')).ColumnsEngine())
    return { serve: { columns: columns.target } }
  },
  storage: { ...columnsSchema, version: 2, tablePrefixes: ['column', 'col_'] },
}
