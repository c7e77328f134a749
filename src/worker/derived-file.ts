import type { DerivedFileHost } from '../engine/engine-services.js'

/** The OPFS folder of DuckDB's cache files (beside labvault's own folder, never inside a vault). */
export const SQL_CACHE_FOLDER = 'labvault-sql'

/** The file name of a vault's SQL cache (vault names may hold characters a path must not). */
export function sqlCacheFile(vaultName: string): string {
  return `${encodeURIComponent(vaultName)}.duckdb`
}

/**
 * DuckDB's database for `vault.sql` in OPFS (`labvault-sql/<vault>.duckdb`), a cache of the
 * relations. Tabs share a vault through the leader's worker, the only engine of the vault in this
 * browser profile, so the leader holds the file; DuckDB opens it with synchronous access handles,
 * which fail while another worker holds them (then the relations stay in memory).
 */
export function opfsDerivedFile(vaultName: string): DerivedFileHost {
  const file = sqlCacheFile(vaultName)
  return {
    path: `opfs://${SQL_CACHE_FOLDER}/${file}`,
    async acquire() {
      return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function'
    },
    async release() {},
    async remove() {
      await removeSqlCache(vaultName)
    },
  }
}

/** Delete a vault's SQL cache files from OPFS (when the cache is damaged, or the vault deleted). */
export async function removeSqlCache(vaultName: string): Promise<void> {
  let dir: FileSystemDirectoryHandle
  try {
    dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(SQL_CACHE_FOLDER)
  } catch {
    return
  }
  const file = sqlCacheFile(vaultName)
  for (const name of [file, `${file}.wal`]) {
    await dir.removeEntry(name).catch((err: { name?: string }) => {
      if (err?.name !== 'NotFoundError') throw err
    })
  }
}
