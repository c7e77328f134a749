import { ConflictError, CorruptionError } from '../../errors/errors.js'
import { LOG_HEADER_BYTES, MANIFEST_SLOTS, imageFile, logFile } from '../../persistence/format.js'
import { crc32 } from '../../persistence/crc32.js'
import { scanRecords } from '../../persistence/log-format.js'
import { readManifest } from '../../persistence/manifest.js'
import { decodeStatements } from '../../persistence/record-codec.js'
import type { VaultFiles } from '../../persistence/vault-files.js'
import type { StatementGroup } from '../../sqlite/sqlite-database.js'

/** What one catch-up applied. */
export interface CatchUpResult {
  /** Statement groups of the records replayed, in order (for change notifications). */
  groups: StatementGroup[]
  /** Records replayed. */
  records: number
  /** The image of a newer generation was loaded (the changes are unknown: everything may have changed). */
  reloaded: boolean
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Bring `files` (and its database) up to date with what other engines committed: a newer
 * generation is adopted (by switching logs when this engine had applied everything before the
 * checkpoint, else by loading the new image), then the records past `files.logEnd` are replayed.
 *
 * `writer`: the caller holds the write lock, so nothing can change meanwhile and bytes after the
 * last valid record are the torn tail of a writer that died: they are cut off, so the next append
 * follows the last good record. A reader (no lock) only stops there: a writer may be mid-append,
 * and a checkpoint may remove files under it, so a reader retries a few times.
 *
 * Must not run inside an open SQL transaction of the engine.
 */
export async function catchUp(files: VaultFiles, writer: boolean): Promise<CatchUpResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await catchUpOnce(files, writer)
    } catch (err) {
      if (writer || attempt >= 8) throw err
      await sleep(1 + attempt * 2)
    }
  }
}

async function catchUpOnce(files: VaultFiles, writer: boolean): Promise<CatchUpResult> {
  const { storage, folder, db } = files
  // Adapters may cache sizes of open files: ask them again (another process rewrote the slots).
  for (const slot of MANIFEST_SLOTS) await storage.size(`${folder}/${slot}`)
  const m = await readManifest(storage, folder)
  const old = files.manifest
  if (!m) {
    if ((await storage.list(folder)).every((f) => f.startsWith('.'))) {
      throw new ConflictError(`vault "${folder}" was deleted by another program while it was open here; reopen it`)
    }
    throw new CorruptionError(`vault folder "${folder}" lost its manifest`)
  }
  // Another vault under the same name (a restored backup, a delete and re-create): not ours to follow.
  if (m.createdAt !== old.createdAt || (m.generation === old.generation && (m.imageCrc !== old.imageCrc || m.imageSize !== old.imageSize))) {
    throw replacedError(folder)
  }
  let reloaded = false
  if (m.generation > old.generation) {
    if (files.lastSeq === m.baseSeq) {
      // Everything folded into the new image was already applied here: continue on the new log.
      files.manifest = { ...m }
    } else if (files.lastSeq < m.baseSeq) {
      const imagePath = `${folder}/${imageFile(m.generation)}`
      await storage.size(imagePath)
      const image = await storage.read(imagePath)
      if (!image || image.length !== m.imageSize || crc32(image) !== m.imageCrc) {
        // A later checkpoint may have replaced it already (a reader retries); under the lock it is damage.
        throw new CorruptionError(`vault image ${imagePath} is missing or fails its checksum`)
      }
      await db.replaceImage(image, files.sqlJsLocation)
      files.manifest = { ...m }
      files.lastSeq = m.baseSeq
      reloaded = true
    } else {
      // A checkpoint of this vault folds in every record any engine applied (its checkpointer held
      // the lock and had caught up), so a newer generation that ends before what this engine
      // applied does not continue its history: the vault was replaced (importVault of the same
      // archive again, a backup of it restored). Not damage: the files are a sound vault.
      throw replacedError(folder)
    }
    files.logEnd = LOG_HEADER_BYTES
    // The old generation is garbage now; removing it (already done by the checkpointer) also
    // closes any handle this adapter kept on it.
    await storage.remove(`${folder}/${imageFile(old.generation)}`).catch(() => {})
    await storage.remove(`${folder}/${logFile(old.generation)}`).catch(() => {})
  } else if (m.generation === old.generation) {
    // Keep identity fields others may have changed, and the generation's own facts.
    files.manifest = { ...files.manifest, ...m }
  } else if ((await storage.size(files.logPath)) === undefined) {
    // Generations only grow: an older one, with this engine's log gone, is a backup of this vault
    // restored over it. (Before, this went on to that log and every call failed with
    // CorruptionError "log missing" although the files are a sound vault.) With the log still there,
    // the slot naming the newer generation was lost and the open found that generation from its
    // files (docs/format.md, "A folder with no valid manifest"): this engine goes on with it.
    throw replacedError(folder)
  }
  const logPath = files.logPath
  const size = await storage.size(logPath)
  if (size === undefined) throw new CorruptionError(`vault log ${logPath} is missing`)
  if (size <= files.logEnd) return { groups: [], records: 0, reloaded }
  const bytes = await storage.readRange(logPath, files.logEnd, size - files.logEnd)
  const scan = scanRecords(bytes, files.logEnd, files.lastSeq)
  const groups: StatementGroup[] = []
  if (scan.records.length > 0) {
    db.control('BEGIN')
    try {
      for (const rec of scan.records) {
        const g = decodeStatements(rec.payload)
        db.replay(g)
        groups.push(...g)
      }
      db.control('COMMIT')
    } catch (err) {
      db.control('ROLLBACK')
      throw new CorruptionError(`vault log ${logPath} holds a record that does not apply: ${(err as Error).message}`, { cause: err })
    }
    files.lastSeq += scan.records.length
    files.logEnd = scan.validEnd
  }
  if (writer && scan.droppedBytes > 0) {
    await storage.truncate(logPath, scan.validEnd)
    await storage.sync(logPath)
  }
  return { groups, records: scan.records.length, reloaded }
}

/** The files no longer continue what this engine read: reopen to see the vault that is there now. */
function replacedError(folder: string): ConflictError {
  return new ConflictError(`vault "${folder}" was replaced by another program while it was open here; reopen it`)
}
