// The domain conformance suites (kv, columns, items, store; and opening: what openVault gives besides them) by name, for the runners (test/node/vault-conformance.test.ts,
// test/browser/vault-conformance.spec.ts and its page fixture).
import { columnsConformanceCases } from './columns-conformance.js'
import { itemsConformanceCases } from './items-conformance.js'
import { kvConformanceCases } from './kv-conformance.js'
import { openingConformanceCases } from './opening-conformance.js'
import { tablesConformanceCases } from './tables-conformance.js'
import { storeConformanceCases } from './store-conformance.js'
import { storeIoConformanceCases } from './store-io-conformance.js'
import { sqlConformanceCases } from './sql-conformance.js'
import type { VaultConformanceCase } from './vault-conformance.js'

export const vaultSuites = {
  kv: kvConformanceCases,
  columns: columnsConformanceCases,
  items: itemsConformanceCases,
  opening: openingConformanceCases,
  tables: tablesConformanceCases,
  store: storeConformanceCases,
  storeIo: storeIoConformanceCases,
  sql: sqlConformanceCases,
} satisfies Record<string, VaultConformanceCase[]>

export type VaultSuiteName = keyof typeof vaultSuites
