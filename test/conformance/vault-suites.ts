// The domain conformance suites (and opening: what openVault gives besides them) by name, for the runners (test/node/vault-conformance.test.ts,
// test/browser/vault-conformance.spec.ts and its page fixture).
import { columnsConformanceCases } from './columns-conformance.js'
import { itemsConformanceCases } from './items-conformance.js'
import { kvConformanceCases } from './kv-conformance.js'
import { openingConformanceCases } from './opening-conformance.js'
import { sqlConformanceCases } from './sql-conformance.js'
import type { VaultConformanceCase } from './vault-conformance.js'

export const vaultSuites = {
  kv: kvConformanceCases,
  columns: columnsConformanceCases,
  items: itemsConformanceCases,
  opening: openingConformanceCases,
  sql: sqlConformanceCases,
} satisfies Record<string, VaultConformanceCase[]>

export type VaultSuiteName = keyof typeof vaultSuites
