import type { DomainRecord } from '../../../engine/domain-record.js'
import { columnMethods } from '../shared/column-methods.js'
import { ColumnsEngine, columnsSchema } from './column-engine.js'

/** Typed columns: growable arrays of one dtype stored in chunks, large chunks in the blob store. */
export const columnsDomain: DomainRecord<typeof columnMethods> = {
  name: 'columns',
  methods: columnMethods,
  create: () => ({ serve: { columns: new ColumnsEngine() } }),
  storage: { ...columnsSchema, version: 2, tablePrefixes: ['column', 'col_'] },
}
