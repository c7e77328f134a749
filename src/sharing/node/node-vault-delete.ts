import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { randomBytes } from 'node:crypto'
import { ConflictError, LockTimeoutError } from '../../errors/errors.js'
import { storageError, syncFolder } from '../../storage/node-fs-adapter.js'
import { NodeFileLock } from './node-file-lock.js'
import { LOCK_FILE } from './node-sharing.js'
import { refuseOpenElsewhere } from './node-presence.js'

/**
 * Folder in the storage root where a deleted vault's folder is moved before its files are removed
 * (a dot name: listVaults skips it).
 */
export const TRASH_FOLDER = '.labvault-trash'

/** How long deleteVault waits for the vault's lock file held by a writer of another process. */
const DELETE_LOCK_TIMEOUT_MS = 10_000

/** What {@link deleteFsVault} asks of its caller: whether the vault is still a vault to delete. */
export type DeletableCheck = () => Promise<'absent' | 'vault'>

/**
 * Delete the vault folder `name` of the storage root `root`, as deleteVault does on Node.
 *
 * - A vault open in another live process (its open mark, src/sharing/node/node-presence.ts) is
 *   refused with ConflictError and left intact, as a browser refuses a vault open in any tab. (Before,
 *   its files were removed under the other process, whose next write then failed.)
 * - The vault's lock file (the write lock every process takes to create or write it) is held while
 *   the folder goes, and the marks are looked at again under it: a writer in another process
 *   finishes its commit first, and nobody creates the vault in the folder meanwhile.
 * - The folder is first **renamed** into `.labvault-trash/` (one atomic step), then its files are
 *   removed. A crash during the removal leaves the vault gone, never a half-deleted vault that no
 *   longer opens (`rm -rf` removes files one by one: manifests without their image, or an image
 *   without its log, open as CorruptionError). What such a crash leaves in the trash is removed by
 *   the next deleteVault of that root.
 *
 * `check` says whether the folder is (still) a vault; it runs before the lock and again under it.
 * Returns false when there was no vault.
 */
export async function deleteFsVault(root: string, name: string, check: DeletableCheck): Promise<boolean> {
  refuseOpenElsewhere(root, name, 'close it there before deleting it; nothing was deleted')
  if ((await check()) === 'absent') return false
  const folder = nodePath.join(root, name)
  // The lock file where it really is: when the vault's folder is a symbolic link to a vault folder
  // elsewhere, the rename below moves the link, and a lock named through the link could then not be
  // released (it stayed in the real folder, held by this live process: every writer of that vault
  // got LockTimeoutError until this process ended).
  let lockFolder = folder
  try {
    lockFolder = fs.realpathSync.native(folder)
  } catch {}
  // `purpose`: an open that starts meanwhile waits instead of reading files about to go.
  const lock = new NodeFileLock(nodePath.join(lockFolder, LOCK_FILE), { leaseMs: 5000, purpose: 'delete' })
  try {
    try {
      await lock.acquire(DELETE_LOCK_TIMEOUT_MS)
    } catch (err) {
      if (!(err instanceof LockTimeoutError)) throw err
      throw new ConflictError(`vault "${name}" is being written by another process: deleteVault waited ${DELETE_LOCK_TIMEOUT_MS} ms for it (${err.message}); nothing was deleted`, { cause: err })
    }
    // Again under the lock: an opener or a deletion that came meanwhile.
    refuseOpenElsewhere(root, name, 'close it there before deleting it; nothing was deleted')
    if ((await check()) === 'absent') return false
    const trash = nodePath.join(root, TRASH_FOLDER)
    const target = nodePath.join(trash, randomBytes(12).toString('hex'))
    try {
      fs.mkdirSync(trash, { recursive: true })
      fs.renameSync(folder, target)
    } catch (err) {
      throw storageError(err, `move vault ${name} to ${TRASH_FOLDER}`, root)
    }
    // The rename made durable (a crash after deleteVault resolved must not bring the vault back).
    try {
      syncFolder(root)
      syncFolder(trash)
    } catch {}
  } finally {
    // Its lock file went with the folder: release() then finds no lock of its own and removes nothing
    // (a waiter may already have made a new one in a new folder).
    lock.release()
  }
  emptyTrash(root)
  return true
}


/**
 * Remove what is in the trash folder: the vault just moved there, and what an earlier deletion that
 * crashed left. Best effort: another process emptying it at the same time, or a file that cannot be
 * removed now, leaves the rest for the next deletion (nothing in the trash is a vault any more).
 */
function emptyTrash(root: string): void {
  const trash = nodePath.join(root, TRASH_FOLDER)
  let entries: string[]
  try {
    entries = fs.readdirSync(trash)
  } catch {
    return
  }
  for (const entry of entries) {
    try {
      fs.rmSync(nodePath.join(trash, entry), { recursive: true, force: true })
    } catch {}
  }
  try {
    fs.rmdirSync(trash)
  } catch {}
}
