import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { randomBytes } from 'node:crypto'
import { ConflictError } from '../../errors/errors.js'
import { processLiveness, selfIdentity, type ProcessIdentity } from './proc-identity.js'

/**
 * Folder of the open-handle marks, in the storage root beside the vaults' folders (a dot name:
 * listVaults skips it; inside a vault's folder it would be a file deleteVault does not know).
 */
export const OPEN_FOLDER = '.labvault-open'

/** The marks of vault `name` of the root folder `root`. */
function marksFolder(root: string, name: string): string {
  return nodePath.join(root, OPEN_FOLDER, encodeURIComponent(name))
}

/**
 * Which processes have a vault open. In `shared` mode a process holds the lock file only while it
 * writes, so the lock alone cannot tell that another process has the vault open: each Node handle
 * of an fs vault leaves a small file `.labvault-open/<vault name>/<pid>.<nonce>` in the storage root holding its process's identity
 * (the same identity as the lock file's) while it is open. `importVault(..., { replace: true })`
 * refuses while a live process other than this one has such a mark: replacing the files under it
 * would leave its engine reading a vault that is gone. The mark of a process that died without
 * closing is recognised as dead (pid gone or reused, or written before a reboot) and removed.
 * Returns the function that removes the mark (at close); a mark that cannot be written (a
 * read-only folder) is skipped: that process cannot be protected, and nothing else changes.
 */
export function markOpen(root: string, name: string): () => void {
  const dir = marksFolder(root, name)
  const file = nodePath.join(dir, `${process.pid}.${randomBytes(6).toString('hex')}`)
  try {
    fs.mkdirSync(dir, { recursive: true })
    // Whole or absent: a reader never sees a half-written mark.
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(selfIdentity()))
    fs.renameSync(`${file}.tmp`, file)
  } catch {
    return () => {}
  }
  return () => fs.rmSync(file, { force: true })
}

/**
 * The processes other than this one whose mark says they have vault `name` of `root` open and that
 * are not known to be dead (another host's cannot be known: it counts as open). Dead ones' marks are
 * removed on the way.
 */
export function otherOpeners(root: string, name: string): ProcessIdentity[] {
  const dir = marksFolder(root, name)
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  const me = selfIdentity()
  const out: ProcessIdentity[] = []
  for (const name of names) {
    let holder: ProcessIdentity
    try {
      holder = JSON.parse(fs.readFileSync(nodePath.join(dir, name), 'utf8')) as ProcessIdentity
    } catch {
      continue // closed meanwhile, or garbled (a crash while writing it): not a live handle's
    }
    if (!holder || typeof holder.pid !== 'number') continue
    if (holder.host === me.host && holder.pid === me.pid && holder.start === me.start) continue
    if (processLiveness(holder) === 'dead') fs.rmSync(nodePath.join(dir, name), { force: true })
    else out.push(holder)
  }
  return out
}

/**
 * ConflictError when a live process other than this one has vault `name` of `root` open (its open
 * mark, {@link otherOpeners}). `action` ends the message: what the caller must do, e.g. "close it
 * there before importing over it".
 */
export function refuseOpenElsewhere(root: string, name: string, action: string): void {
  const others = otherOpeners(root, name)
  if (others.length === 0) return
  const who = others.map((o) => `pid ${o.pid} on ${o.host}`).join(', ')
  throw new ConflictError(`vault "${name}" is open in another process (${who}): ${action}`)
}
