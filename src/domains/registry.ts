import { VaultEngine, type EngineOptions } from '../engine/vault-engine.js'
import type { AnyDomainRecord, DomainRecord } from '../engine/domain-record.js'
import type { domainMethods } from '../protocol/method-kinds.js'
import { kvDomain } from './kv/engine/kv-domain.js'
import { itemsDomain } from './items/engine/items-domain.js'
import { processesDomain } from './processes/engine/processes-domain.js'
import { changesDomain } from './changes/engine/changes-domain.js'
import { columnsDomain } from './columns/engine/columns-domain.js'
import { tablesDomain } from './tables/engine/tables-domain.js'
import { storeDomain } from './store/engine/store-domain.js'
import { sqlDomain } from './sql/engine/sql-domain.js'
import { archiveDomain } from './archive/engine/archive-domain.js'
import { SqliteDatabase, type SqlJsLocation } from '../sqlite/sqlite-database.js'

/**
 * Every domain of a vault, by its record (src/engine/domain-record.ts), in the order their tables
 * are created. A new domain is a folder `src/domains/<d>/` (its `shared/` method table and types,
 * its `engine/` half with its record, its `client/` half), one line here, and one line in the
 * page's table of method kinds (src/protocol/method-kinds.ts; the check below keeps the two equal).
 */
export const standardDomains = [kvDomain, itemsDomain, processesDomain, changesDomain, columnsDomain, tablesDomain, storeDomain, sqlDomain, archiveDomain] as const satisfies readonly AnyDomainRecord[]

/** Engine options with the standard domains (every opener of a vault's engine uses this). */
export function withStandardDomains(options: Omit<EngineOptions, 'domains'>): EngineOptions {
  return { ...options, domains: standardDomains }
}

/** Open or create a vault's engine with the standard domains. */
export function openVaultEngine(options: Omit<EngineOptions, 'domains'>): Promise<VaultEngine> {
  return VaultEngine.open(withStandardDomains(options))
}

/** The names the registered domains serve (the first argument of `invoke`). */
type ServedNames = (typeof standardDomains)[number] extends infer R ? (R extends DomainRecord<infer M> ? keyof M : never) : never
type PageNames = keyof typeof domainMethods
// The page's table of method kinds names exactly the registered domains (a compile-time check).
true satisfies [ServedNames] extends [PageNames] ? ([PageNames] extends [ServedNames] ? true : false) : false

/**
 * The hashes of the blobs a vault image's rows refer to, by the standard domains' queries (those
 * the garbage collector keeps blobs by): importVault checks that an archive holds each one. The
 * image is opened without SQLite's quick_check (its SHA-256 was checked; a damaged one fails at open
 * as any would). A query the image cannot run (a table or column an older format version lacks,
 * made by the migration at open) finds nothing: the check never refuses what imports and opens.
 */
export async function imageBlobReferences(image: Uint8Array, location?: SqlJsLocation): Promise<Set<string>> {
  const db = await SqliteDatabase.open(image, location, { trusted: true })
  const found = new Set<string>()
  try {
    for (const record of standardDomains as readonly AnyDomainRecord[]) {
      for (const query of record.storage?.blobReferences ?? []) {
        try {
          db.each(query, [], (row) => {
            if (typeof row[0] === 'string' && /^[0-9a-f]{64}$/.test(row[0])) found.add(row[0])
          })
        } catch {
          // Not this image's schema (see above).
        }
      }
    }
  } finally {
    db.close()
  }
  return found
}
