import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import type { DerivedFileHost } from '../../engine/engine-services.js'

/**
 * The SQL relations' cache of a vault on Node (docs/sql.md, "Cache file"): one file,
 * `<root>/.labvault-sql/<vault name>.lvsql`, beside the vault's folder (never inside it: it is
 * derived data, not part of the vault or its archive). One process at a time uses it: `acquire`
 * creates `<file>.lock` exclusively, holding the process id; a lock whose process is gone is taken
 * over. Writes go to a temporary file renamed over the old one: a crash leaves the old file or the
 * new one, never half of one.
 */

/** The folder of the cache files, in a storage root. */
export const NODE_SQL_CACHE_FOLDER = '.labvault-sql'

/** The cache file of vault `name` under `root`. */
export function nodeSqlCacheFile(root: string, name: string): string {
  return nodePath.join(root, NODE_SQL_CACHE_FOLDER, `${encodeURIComponent(name)}.lvsql`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function nodeDerivedFile(root: string, name: string): DerivedFileHost {
  const path = nodeSqlCacheFile(root, name)
  const lock = `${path}.lock`
  let held = false
  const take = (): boolean => {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' })
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      return false
    }
  }
  return {
    path,
    async acquire() {
      if (held) return false
      fs.mkdirSync(nodePath.dirname(path), { recursive: true })
      if (!take()) {
        // Held by a process that is gone (it crashed): take it over.
        const owner = Number(fs.readFileSync(lock, 'utf8'))
        if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || alive(owner))) return false
        fs.rmSync(lock, { force: true })
        if (!take()) return false
      }
      held = true
      return true
    },
    async release() {
      if (!held) return
      held = false
      fs.rmSync(lock, { force: true })
    },
    async remove() {
      fs.rmSync(path, { force: true })
    },
    async read() {
      try {
        return new Uint8Array(fs.readFileSync(path))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw err
      }
    },
    writeSync(bytes) {
      const tmp = `${path}.${process.pid}.tmp`
      fs.writeFileSync(tmp, bytes)
      fs.renameSync(tmp, path)
    },
  }
}

/** Delete a vault's SQL cache file (when the vault is deleted). */
export function removeNodeSqlCache(root: string, name: string): void {
  fs.rmSync(nodeSqlCacheFile(root, name), { force: true })
}
