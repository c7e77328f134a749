import { InvalidArgumentError } from '../errors/errors.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { encodeLogHeader } from './log-format.js'
import { BLOB_FOLDER, LOG_MAGIC, MANIFEST_MAGIC, MANIFEST_SLOTS } from './format.js'

const encoder = new TextEncoder()

/**
 * Names a vault folder may hold (docs/format.md); `.lock…` are the write lock and its helpers
 * (`.lock.<nonce>.tmp`: a lock being written), `.blob-pins` and `.blob-trash` the blob pins of
 * processes sharing the vault (src/sharing/node/node-blob-pins.ts).
 */
export function isVaultFolderEntry(name: string): boolean {
  return (
    (MANIFEST_SLOTS as readonly string[]).includes(name) ||
    /^image-\d+\.sqlite$/.test(name) ||
    /^log-\d+\.log$/.test(name) ||
    name === BLOB_FOLDER ||
    /^\.lock(\.wait|\.break|\.[0-9a-f]+\.tmp)?$/.test(name) ||
    name === '.blob-pins' ||
    name === '.blob-trash'
  )
}

async function startsWith(storage: StorageAdapter, path: string, prefix: Uint8Array): Promise<boolean> {
  const head = await storage.readRange(path, 0, prefix.length).catch(() => undefined)
  return head !== undefined && head.length === prefix.length && head.every((b, i) => b === prefix[i])
}

/**
 * Whether `log-0.log` is what a vault creation writes first: the generation-0 log header, or a
 * prefix of it (a crash while writing it). Only labvault writes this file, so it marks an abandoned
 * creation, unlike an `image-0.sqlite`, which could be any SQLite file of the user's.
 */
export async function isCreationLog(storage: StorageAdapter, path: string): Promise<boolean> {
  const header = encodeLogHeader(0)
  const size = await storage.size(path)
  if (size === undefined || size > header.length) return false
  return startsWith(storage, path, header.subarray(0, size))
}

/**
 * What `deleteVault` may delete. `'absent'`: nothing there. `'vault'`: every entry is a vault file
 * and at least one carries labvault's own marks (a manifest slot or log header with its magic, or
 * the first file a creation writes), so a damaged vault can still be deleted. Anything else (a
 * folder of the user's files, or a vault folder holding files labvault did not write) is refused
 * with InvalidArgumentError naming them, before anything is deleted.
 */
export async function checkDeletableVault(storage: StorageAdapter, folder: string): Promise<'absent' | 'vault'> {
  const entries = await storage.list(folder)
  if (entries.length === 0) return 'absent'
  const foreign = entries.filter((e) => !isVaultFolderEntry(e))
  if (foreign.length === 0 && entries.includes(BLOB_FOLDER)) {
    for (const prefix of await storage.list(`${folder}/${BLOB_FOLDER}`)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) {
        foreign.push(`${BLOB_FOLDER}/${prefix}`)
        continue
      }
      for (const blob of await storage.list(`${folder}/${BLOB_FOLDER}/${prefix}`)) {
        if (!/^[0-9a-f]{64}$/.test(blob) || !blob.startsWith(prefix)) foreign.push(`${BLOB_FOLDER}/${prefix}/${blob}`)
      }
    }
  }
  if (foreign.length > 0) {
    throw new InvalidArgumentError(
      `"${folder}" is not (only) a labvault vault: it holds ${foreign.length} file(s) labvault did not write ` +
        `(${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); nothing was deleted`,
    )
  }
  let marked = false
  for (const e of entries) {
    // An empty slot file is one a creation made and had not written yet (src/persistence/vault-creation.ts).
    if ((MANIFEST_SLOTS as readonly string[]).includes(e)) marked ||= (await storage.size(`${folder}/${e}`)) === 0 || (await startsWith(storage, `${folder}/${e}`, encoder.encode(MANIFEST_MAGIC)))
    else if (e.startsWith('log-')) marked ||= (await startsWith(storage, `${folder}/${e}`, encoder.encode(LOG_MAGIC))) || (e === 'log-0.log' && (await isCreationLog(storage, `${folder}/${e}`)))
    if (marked) break
  }
  if (!marked) {
    throw new InvalidArgumentError(
      `"${folder}" does not look like a labvault vault (no manifest or log written by labvault among ${entries.slice(0, 5).join(', ')}); nothing was deleted`,
    )
  }
  return 'vault'
}
