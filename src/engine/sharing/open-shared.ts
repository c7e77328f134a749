import { CorruptionError } from '../../errors/errors.js'
import { readManifest } from '../../persistence/manifest.js'
import { MANIFEST_SLOTS } from '../../persistence/format.js'
import type { VaultFiles } from '../../persistence/vault-files.js'
import type { StorageAdapter } from '../../storage/storage-adapter.js'
import type { SharingHost } from './sharing-types.js'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Open a vault's files when other processes may use them too.
 * - An existing vault opens without the lock, as a reader (no repair of a torn tail, no removal of
 *   stray files: the next writer catches up under the lock and cuts a torn tail then), unless
 *   another process holds the lock to import over it or delete it (then under the lock, after). A
 *   checkpoint of another process may remove the files being read: retried a few times.
 * - Creating a vault (or `exclusive` mode) takes the lock first, so two processes never create it
 *   twice; it is held until the creation's files are durable (the open answers before), and in
 *   `exclusive` mode until close.
 * `open(repair)` is VaultFiles.open with `readOnly` when `repair` is false (or the vault is read-only).
 * `locked`: open under the lock even when the vault exists (`repair: true` may rewrite files).
 */
export async function openFilesShared(host: SharingHost, storage: StorageAdapter, folder: string, open: (repair: boolean) => Promise<VaultFiles>, locked = false): Promise<VaultFiles> {
  try {
    await refreshSizes(storage, folder)
    // Not while another process imports over the vault or deletes it (it holds the lock for that):
    // the files read now would be replaced under this engine, whose next call would then fail as
    // for a vault replaced by another program. Waiting for the lock opens what is there after.
    if (host.mode !== 'exclusive' && !locked && !host.lock.replacing?.() && (await readManifest(storage, folder))) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await open(false)
        } catch (err) {
          if (!(err instanceof CorruptionError) || attempt >= 6) throw err
          await sleep(5 + attempt * 10)
          await refreshSizes(storage, folder)
        }
      }
    }
    await host.lock.acquire(host.lockTimeoutMs)
    let files: VaultFiles | undefined
    try {
      await refreshSizes(storage, folder)
      files = await open(true)
      return files
    } finally {
      // A creation answers before its files are durable: the lock covers it until they are (or
      // it failed), so another process opening the name waits as it would for the creation.
      if (host.mode !== 'exclusive') {
        if (files?.creationPending) files.afterCreation(() => host.lock.release())
        else host.lock.release()
      }
    }
  } catch (err) {
    host.close()
    throw err
  }
}

/** Adapters may cache sizes of files they opened before: another process may have changed them. */
async function refreshSizes(storage: StorageAdapter, folder: string): Promise<void> {
  for (const slot of MANIFEST_SLOTS) await storage.size(`${folder}/${slot}`)
  for (const name of await storage.list(folder)) if (!name.startsWith('.') && name !== 'blobs') await storage.size(`${folder}/${name}`)
}
