import type { DomainRecord } from '../../../engine/domain-record.js'
import { kvMethods } from '../shared/kv-methods.js'
import { KvEngine, kvSchema } from './kv-engine.js'

/** The key-value domain: namespaced keys with values in SQLite, large ones in the blob store. */
export const kvDomain: DomainRecord<typeof kvMethods> = {
  name: 'kv',
  methods: kvMethods,
  create: () => ({ serve: { kv: new KvEngine() } }),
  // Version 2: values written as streams (kind 0x20, docs/format.md); the tables are unchanged.
  storage: { ...kvSchema, version: 2, tablePrefixes: ['kv'] },
}
