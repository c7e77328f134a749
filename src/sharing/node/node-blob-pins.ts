import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { randomBytes } from 'node:crypto'
import { storageError } from '../../storage/node-fs-adapter.js'
import { BLOB_FOLDER } from '../../persistence/format.js'
import type { BlobPinBoard } from '../../persistence/blob-store.js'
import { processLiveness, selfIdentity, type ProcessIdentity } from './proc-identity.js'

/** Folder of the pins inside the vault folder (a dot name: not a vault file, not a change). */
export const PIN_FOLDER = '.blob-pins'
/** Where a blob being collected waits while the collector looks for a late pin. */
export const TRASH_FOLDER = '.blob-trash'

/**
 * Pins that other processes can see. A blob is written before the commit that refers to it, and
 * the writer may then wait for the write lock while another process holds it and checkpoints:
 * that process must not collect the blob as unreferenced. Each pin is a small file
 * `.blob-pins/<hash>.<nonce>` holding the pinning process's identity; a collector spares every
 * hash pinned by a process that is alive (or cannot be known dead) and removes the pins of dead
 * ones. Pins are not synced: after a machine crash their writers are dead anyway (boot id).
 *
 * A writer pins, then looks for the file (reusing it when it is there). A collector that read the
 * pins before that pin existed could still delete the file the writer just found, so it deletes in
 * two steps: rename the blob into `.blob-trash/`, read the pins again, and put it back when a pin
 * appeared (the writer found the file before the rename, so its pin predates the second read).
 */
export function nodeBlobPins(vaultDir: string): BlobPinBoard {
  const dir = nodePath.join(vaultDir, PIN_FOLDER)
  const trashDir = nodePath.join(vaultDir, TRASH_FOLDER)
  const me = JSON.stringify(selfIdentity())
  const blobPath = (hash: string) => nodePath.join(vaultDir, BLOB_FOLDER, hash.slice(0, 2), hash)

  const livePins = (): Set<string> => {
    const pinned = new Set<string>()
    let names: string[]
    try {
      names = fs.readdirSync(dir)
    } catch {
      return pinned
    }
    for (const name of names) {
      const hash = name.slice(0, name.indexOf('.'))
      let holder: ProcessIdentity
      try {
        holder = JSON.parse(fs.readFileSync(nodePath.join(dir, name), 'utf8')) as ProcessIdentity
      } catch (err) {
        // Gone meanwhile (unpinned), or being written right now: spare it this time.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') pinned.add(hash)
        continue
      }
      if (holder && typeof holder.pid === 'number' && processLiveness(holder) === 'dead') {
        fs.rmSync(nodePath.join(dir, name), { force: true })
      } else {
        pinned.add(hash)
      }
    }
    return pinned
  }

  // A collector that died between its two steps left blobs in the trash: put them back first (a
  // later collection decides again whether they are referenced).
  const restoreTrash = () => {
    let names: string[]
    try {
      names = fs.readdirSync(trashDir)
    } catch {
      return
    }
    for (const hash of names) {
      try {
        fs.mkdirSync(nodePath.dirname(blobPath(hash)), { recursive: true })
        fs.renameSync(nodePath.join(trashDir, hash), blobPath(hash))
      } catch {
        // Another collector restored it first.
      }
    }
  }

  return {
    pin(hash: string): string {
      const token = `${hash}.${randomBytes(8).toString('hex')}`
      const path = nodePath.join(dir, token)
      try {
        fs.writeFileSync(path, me)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(err, 'pin a blob', vaultDir)
        try {
          fs.mkdirSync(dir, { recursive: true })
          fs.writeFileSync(path, me)
        } catch (again) {
          throw storageError(again, 'pin a blob', vaultDir)
        }
      }
      return token
    },
    unpin(token: string): void {
      // At once, not in the background: a checkpoint right after the commit must not see it.
      try {
        fs.rmSync(nodePath.join(dir, token), { force: true })
      } catch {
        // A pin that cannot be removed only spares its blob until this process exits.
      }
    },
    pinnedElsewhere(): Set<string> {
      restoreTrash()
      return livePins()
    },
    removeUnlessPinned(hash: string): boolean {
      const trashed = nodePath.join(trashDir, hash)
      try {
        fs.mkdirSync(trashDir, { recursive: true })
        fs.renameSync(blobPath(hash), trashed)
      } catch {
        return false
      }
      if (livePins().has(hash)) {
        fs.renameSync(trashed, blobPath(hash))
        return false
      }
      fs.rmSync(trashed, { force: true })
      return true
    },
  }
}
