import { ConflictError, CorruptionError, NotFoundError, fromPlatformError } from '../errors/errors.js'
import { SqliteDatabase, type SqlJsLocation, type StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { decodeStatements, encodeStatements } from './record-codec.js'
import { crc32 } from './crc32.js'
import { FORMAT_VERSION, LOG_HEADER_BYTES, MANIFEST_SLOTS, RECORD_HEADER_BYTES, imageFile, logFile } from './format.js'
import { decodeLogHeader, encodeLogHeader, encodeRecord, hasLaterRecord, scanRecords } from './log-format.js'
import { missingManifest, readManifestSlots, writeManifest, writeManifestSlot, type Manifest } from './manifest.js'
import { CREATION_SEQ, createVault, hasNoImage, isAbandonedCreation, noImageManifest, type VaultIdentity } from './vault-creation.js'
import type { Durability, RecoveryReport } from '../protocol/engine-types.js'

export type { VaultIdentity } from './vault-creation.js'

/** Options of {@link VaultFiles.open}. */
export interface VaultFilesOptions {
  readOnly: boolean
  create: boolean
  identity: VaultIdentity
  sqlJs?: SqlJsLocation
  /** The statements that make a new vault's tables: its log's first record (docs/format.md, "A new vault"). */
  schema(): StatementGroup[]
  /** The clock that stamps a new or rebuilt manifest's creation time (default: the current time). */
  now?: () => Date
  /**
   * Open a damaged vault anyway: rebuild a missing manifest from the newest image and log, and
   * drop a damaged log record together with the intact records after it. Off by default: those
   * records were acknowledged, and losing them must be a decision, not a side effect.
   */
  repair?: boolean
}

/**
 * The files of one vault and the log-and-checkpoint protocol over them (docs/format.md):
 * - `manifest-0`/`manifest-1`: the current generation, image checksum and identity, written
 *   alternately so that a torn manifest write always leaves the previous one intact;
 * - `image-<g>.sqlite`: a full sql.js export, written at checkpoints (a new vault has none: its
 *   database is an empty one plus its log, whose first record creates the schema);
 * - `log-<g>.log`: every commit since that image, one checksummed record each.
 * A commit appends one record (O(change)); a checkpoint writes a new image and starts a new log.
 */
export class VaultFiles {
  /** Sequence number of the last record applied to `db`. */
  lastSeq: number
  /** Offset in the log file just past the last valid record. */
  logEnd: number
  private unsynced = false
  /**
   * The last flush of relaxed commits failed (they are still appended, in the adapter's buffer or the
   * file): the next append syncs first and rejects when that fails too, so a relaxed writer learns
   * of the failure at its next write instead of at close.
   */
  private flushFailed = false
  private broken: Error | undefined
  /**
   * This open created the vault (its database is exactly the creation record's tables, nothing
   * else): the engine skips what only an existing vault can need (migrations, orphan blobs).
   */
  created = false

  private constructor(
    readonly storage: StorageAdapter,
    readonly folder: string,
    public manifest: Manifest,
    readonly db: SqliteDatabase,
    readonly recovery: RecoveryReport,
    private readonly sqlJs: SqlJsLocation | undefined,
  ) {
    this.lastSeq = manifest.baseSeq
    this.logEnd = 0
  }

  /** Path of the current log file. */
  get logPath(): string {
    return `${this.folder}/${logFile(this.manifest.generation)}`
  }

  /**
   * Open (or create) the vault in `folder`. Nothing is written before the format version is checked.
   * A failed open releases every file it opened (a retry after the folder was fixed sees it anew).
   */
  static async open(storage: StorageAdapter, folder: string, options: VaultFilesOptions): Promise<VaultFiles> {
    try {
      return await openFiles(storage, folder, options)
    } catch (err) {
      await storage.release?.(folder).catch(() => {})
      throw err
    }
  }

  /** @internal used by {@link openFiles} once the generation and the log are chosen. */
  static make(storage: StorageAdapter, folder: string, manifest: Manifest, db: SqliteDatabase, recovery: RecoveryReport, sqlJs: SqlJsLocation | undefined, logEnd: number, lastSeq: number): VaultFiles {
    const files = new VaultFiles(storage, folder, manifest, db, recovery, sqlJs)
    files.logEnd = logEnd
    files.lastSeq = lastSeq
    return files
  }

  /** Append one commit to the log. With `strict`, resolves once the record is durable. */
  async append(groups: StatementGroup[], durability: Durability): Promise<void> {
    if (this.broken) throw this.broken
    if (this.flushFailed) await this.flush()
    const seq = this.lastSeq + 1
    const frame = encodeRecord(seq, encodeStatements(groups))
    const path = this.logPath
    try {
      const size = await this.storage.append(path, frame)
      if (size !== this.logEnd + frame.length) {
        // Not the log this engine was writing: it was deleted (the append created a new file) or
        // replaced underneath. Acknowledging would put the commit where no reopen finds it.
        if (size === frame.length) await this.storage.remove(path).catch(() => {})
        throw new ConflictError(`the vault log ${path} was deleted or replaced by another program (expected ${this.logEnd} bytes before this append, found ${size - frame.length}); reopen the vault`)
      }
      if (durability === 'strict') await this.storage.sync(path)
      else this.unsynced = true
    } catch (err) {
      if (err instanceof ConflictError) {
        // The files are no longer this engine's: refuse every later write the same way.
        this.broken = err
        throw err
      }
      // Take the record back so that a later commit cannot be appended after half of this one.
      try {
        await this.storage.truncate(path, this.logEnd)
      } catch (truncateErr) {
        // The log may now end in garbage we cannot remove: refuse further writes until reopened,
        // which drops the bad tail by checksum.
        this.broken = new CorruptionError('the vault log could not be repaired after a failed write; reopen the vault', { cause: truncateErr })
      }
      throw fromPlatformError(err, `append to ${path}`)
    }
    this.lastSeq = seq
    this.logEnd += frame.length
  }

  /** Flush relaxed commits. */
  async flush(): Promise<void> {
    if (!this.unsynced) return
    this.unsynced = false
    try {
      await this.storage.sync(this.logPath)
      this.flushFailed = false
    } catch (err) {
      if (err instanceof ConflictError) this.broken = err
      else {
        // Still not durable: the next append, flush or close tries again.
        this.unsynced = true
        this.flushFailed = true
      }
      throw fromPlatformError(err, `sync ${this.logPath}`)
    }
  }

  /** Bytes of log records since the last checkpoint. */
  get logBytes(): number {
    return this.logEnd - LOG_HEADER_BYTES
  }

  /**
   * Write a new image of the database and start an empty log. The database must not be inside a
   * write transaction. Crash-safe at every step: until the new manifest is durable the old
   * generation stays current; afterwards the old files are only garbage.
   */
  /**
   * Refuse every later write and checkpoint with `err` until the vault is reopened: the database in
   * memory changed in a way the log does not hold (a VACUUM whose checkpoint failed).
   */
  refuseWrites(err: Error): void {
    this.broken ??= err
  }

  async checkpoint(): Promise<void> {
    if (this.broken) throw this.broken
    try {
      await this.writeCheckpoint()
    } catch (err) {
      throw fromPlatformError(err, 'checkpoint')
    }
  }

  private async writeCheckpoint(): Promise<void> {
    await this.flush()
    const old = this.manifest
    const g = old.generation + 1
    const image = this.db.exportImage()
    const imagePath = `${this.folder}/${imageFile(g)}`
    const logPath = `${this.folder}/${logFile(g)}`
    try {
      await this.storage.write(imagePath, image)
      await this.storage.sync(imagePath)
      await this.storage.write(logPath, encodeLogHeader(g))
      await this.storage.sync(logPath)
    } catch (err) {
      // Out of space, typically: the new files are garbage, and a partial image may be most of the
      // space left. Remove them now (the next open would too); in a buffering adapter such as
      // IndexedDB's this also drops unsynced bytes that a later sync or close would keep failing on.
      await this.storage.remove(imagePath).catch(() => {})
      await this.storage.remove(logPath).catch(() => {})
      throw err
    }
    const next: Manifest = { ...old, formatVersion: FORMAT_VERSION, generation: g, imageSize: image.length, imageCrc: crc32(image), baseSeq: this.lastSeq }
    try {
      await writeManifest(this.storage, this.folder, next)
    } catch (err) {
      // The new manifest may be on disk even though its write or sync failed. Going on with the
      // old generation would then append commits to a log that a reopen ignores (it picks the newer
      // manifest). Remove that slot so the old generation is the only one; if even that fails,
      // refuse writes until the vault is reopened (the files then agree with what was acknowledged).
      try {
        await this.storage.remove(`${this.folder}/${MANIFEST_SLOTS[g % 2]}`)
      } catch (removeErr) {
        this.broken = new CorruptionError('the vault manifest could not be repaired after a failed checkpoint; reopen the vault', { cause: removeErr })
      }
      await this.storage.remove(imagePath).catch(() => {})
      await this.storage.remove(logPath).catch(() => {})
      throw err
    }
    this.manifest = next
    this.logEnd = LOG_HEADER_BYTES
    try {
      // The other slot too, so that losing either slot later never leaves one naming removed files.
      await writeManifestSlot(this.storage, this.folder, next, (g + 1) % 2)
    } catch {
      // Committed already; keep the old generation's files so that the other slot (if still
      // intact) names files that exist. The next open removes them.
      return
    }
    if (!hasNoImage(old)) await this.storage.remove(`${this.folder}/${imageFile(old.generation)}`)
    await this.storage.remove(`${this.folder}/${logFile(old.generation)}`)
  }

  /** Remove images and logs of other generations (left by a crash or a failed checkpoint). */
  async removeStrayFiles(): Promise<void> {
    const keep = new Set<string>([...MANIFEST_SLOTS, imageFile(this.manifest.generation), logFile(this.manifest.generation)])
    for (const name of await this.storage.list(this.folder)) {
      if ((name.startsWith('image-') || name.startsWith('log-')) && !keep.has(name)) await this.storage.remove(`${this.folder}/${name}`)
    }
  }

  /** Flush and release the database and every file handle of this vault (the adapter is the caller's). */
  async close(): Promise<void> {
    try {
      await this.flush()
    } finally {
      this.db.close()
      await this.storage.release?.(this.folder).catch(() => {})
    }
  }

  /** The sql.js location this vault was opened with (reused to reload images). */
  get sqlJsLocation(): SqlJsLocation | undefined {
    return this.sqlJs
  }
}

/** The generation chosen at open, with its image (checked) and what choosing it repaired. */
interface Chosen {
  manifest: Manifest
  db: SqliteDatabase
  repairs: string[]
  /** Write the manifest to both slots (a slot was lost, or the manifest was rebuilt). */
  heal: boolean
}

async function openFiles(storage: StorageAdapter, folder: string, options: VaultFilesOptions): Promise<VaultFiles> {
  const slots = await readSlots(storage, folder)
  // Names starting with '.' are not vault files (the lock and blob-pin files of processes sharing the folder).
  const files = storage.listable === false ? await namedFiles(storage, folder, slots) : (await storage.list(folder)).filter((f) => !f.startsWith('.'))
  let chosen: Chosen | undefined
  if (slots.length > 0) chosen = await chooseGeneration(storage, folder, slots, files, options)
  else if (files.length > 0 && !(await isAbandonedCreation(storage, folder, files))) {
    if (!options.repair || options.readOnly) missingManifest(folder, files)
    chosen = await rebuildManifest(storage, folder, files, options)
  }
  if (!chosen) {
    if (!options.create) throw new NotFoundError(`vault "${options.identity.name}" does not exist`)
    if (options.readOnly) throw new NotFoundError(`vault "${options.identity.name}" does not exist (and readOnly forbids creating it)`)
    for (const f of files) await storage.remove(`${folder}/${f}`)
    // The database that built the schema is the vault's: nothing to read back.
    const created = await createVault(storage, folder, options)
    const vault = VaultFiles.make(storage, folder, created.manifest, created.db, { replayedRecords: 0, droppedBytes: 0, repairs: [] }, options.sqlJs, created.logEnd, created.lastSeq)
    vault.created = true
    return vault
  }
  try {
    return await openLog(storage, folder, chosen, options)
  } catch (err) {
    chosen.db.close()
    throw err
  }
}

/** Load the log of the chosen generation on top of its image (repairing it when asked). */
async function openLog(storage: StorageAdapter, folder: string, chosen: Chosen, options: VaultFilesOptions): Promise<VaultFiles> {
  const { manifest, db, repairs } = chosen
  const logPath = `${folder}/${logFile(manifest.generation)}`
  const logBytes = await storage.read(logPath)
  let body: Uint8Array
  let rewriteLog = false
  if (!logBytes) {
    if (!options.repair) throw new CorruptionError(`vault log ${logPath} is missing; open with { repair: true } to open the image alone (the commits since the last checkpoint are lost)`)
    repairs.push(`log ${logFile(manifest.generation)} was missing: only the checkpoint image was recovered`)
    body = new Uint8Array(0)
    rewriteLog = true
  } else {
    try {
      decodeLogHeader(logBytes, manifest.generation)
      body = logBytes.subarray(LOG_HEADER_BYTES)
    } catch (err) {
      if (!options.repair) {
        throw new CorruptionError(`vault log ${logPath}: ${(err as Error).message}; open with { repair: true } to read the records after it anyway`, { cause: err })
      }
      repairs.push(`log ${logFile(manifest.generation)} had a damaged header (${logBytes.length} bytes): records after it were read anyway`)
      body = logBytes.subarray(Math.min(LOG_HEADER_BYTES, logBytes.length))
      rewriteLog = true
    }
  }
  const scan = scanRecords(body, LOG_HEADER_BYTES, manifest.baseSeq)
  if (scan.droppedBytes > 0 && !options.repair) {
    const lastGood = manifest.baseSeq + scan.records.length
    if (hasLaterRecord(body, scan.validEnd - LOG_HEADER_BYTES, lastGood)) {
      throw new CorruptionError(
        `vault log ${logPath} has a damaged record (sequence ${lastGood + 1}) followed by intact ones; ` +
          `open with { repair: true } to drop it and every record after it (${scan.droppedBytes} bytes)`,
      )
    }
  }
  try {
    db.control('BEGIN')
    for (const rec of scan.records) db.replay(decodeStatements(rec.payload))
    db.control('COMMIT')
  } catch (err) {
    throw new CorruptionError(`vault log ${logPath} holds a record that does not apply: ${(err as Error).message}`, { cause: err })
  }
  // A vault with no image replays its creation record too; that is not a commit.
  const creation = hasNoImage(manifest) && scan.records[0]?.seq === CREATION_SEQ ? 1 : 0
  const recovery: RecoveryReport = { replayedRecords: scan.records.length - creation, droppedBytes: scan.droppedBytes, repairs }
  const files = VaultFiles.make(storage, folder, manifest, db, recovery, options.sqlJs, scan.validEnd, manifest.baseSeq + scan.records.length)
  if (!options.readOnly) {
    if (rewriteLog) {
      // A fresh header and the records that were read: the next append follows them.
      const out = new Uint8Array(scan.validEnd)
      out.set(encodeLogHeader(manifest.generation), 0)
      out.set(body.subarray(0, scan.validEnd - LOG_HEADER_BYTES), LOG_HEADER_BYTES)
      await storage.write(logPath, out)
      await storage.sync(logPath)
    } else if (scan.droppedBytes > 0) {
      // The next append must follow the last good record, not the torn bytes after it.
      await storage.truncate(logPath, scan.validEnd)
      await storage.sync(logPath)
    }
    if (chosen.heal) await writeBothSlots(storage, folder, manifest)
    await files.removeStrayFiles()
  }
  return files
}

/** The valid manifest slots, newest generation first. Refuses a newer format without writing. */
async function readSlots(storage: StorageAdapter, folder: string): Promise<Manifest[]> {
  return (await readManifestSlots(storage, folder)).sort((a, b) => b.generation - a.generation)
}

/**
 * The vault files of a storage that cannot list folders (static HTTP hosting), as far as opening
 * needs them: the image and log of every generation a manifest slot names and, when only one slot
 * is intact, the next generation's image if it exists (one probe: a checkpoint may have lost the
 * other slot after removing the files this one names). No slot: no files, so "does not exist".
 */
async function namedFiles(storage: StorageAdapter, folder: string, slots: Manifest[]): Promise<string[]> {
  const names = new Set<string>()
  for (const m of slots) names.add(imageFile(m.generation)).add(logFile(m.generation))
  if (slots.length === 1) {
    const next = imageFile(slots[0]!.generation + 1)
    if ((await storage.size(`${folder}/${next}`)) !== undefined) names.add(next).add(logFile(slots[0]!.generation + 1))
  }
  return [...names]
}

/** Sequence number of the first record of a log, when that record is intact. */
function firstRecordSeq(log: Uint8Array): number | undefined {
  if (log.length < LOG_HEADER_BYTES + RECORD_HEADER_BYTES) return undefined
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength)
  const seq = view.getUint32(LOG_HEADER_BYTES + 8, true) + view.getUint32(LOG_HEADER_BYTES + 12, true) * 0x1_0000_0000
  if (seq < 1) return undefined
  return scanRecords(log.subarray(LOG_HEADER_BYTES), LOG_HEADER_BYTES, seq - 1).records.length > 0 ? seq : undefined
}

function hasValidHeader(log: Uint8Array | undefined, generation: number): log is Uint8Array {
  if (!log) return false
  try {
    decodeLogHeader(log, generation)
    return true
  } catch {
    return false
  }
}

async function tryOpenImage(image: Uint8Array, options: VaultFilesOptions): Promise<SqliteDatabase | undefined> {
  try {
    return await SqliteDatabase.open(image, options.sqlJs)
  } catch {
    return undefined
  }
}

/**
 * Which generation is current (docs/format.md, "Choosing the generation"). Normally the newest
 * valid slot, whose image passes its checksum. When a slot was lost, the other one may name an
 * older generation whose files the last checkpoint removed: then the newest intact image and log
 * on disk are the current ones. Nothing acknowledged is dropped by this choice:
 * - a newer generation whose log holds a record was committed (records follow the commit point);
 * - a newer generation with an empty log is the checkpoint that removed the named image (identical
 *   content to the named image and its log).
 */
async function chooseGeneration(storage: StorageAdapter, folder: string, slots: Manifest[], files: string[], options: VaultFilesOptions): Promise<Chosen> {
  const best = slots[0]!
  const lostSlot = slots.length < 2
  const newer = files
    .map((f) => /^image-(\d+)\.sqlite$/.exec(f)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .filter((g) => g > best.generation)
    .sort((a, b) => b - a)
  const rebuilt = async (g: number, baseSeq: number | undefined, why: string): Promise<Chosen | undefined> => {
    const log = await storage.read(`${folder}/${logFile(g)}`)
    if (!hasValidHeader(log, g)) return undefined
    const first = firstRecordSeq(log)
    if (baseSeq === undefined) {
      if (first === undefined) return undefined
      baseSeq = first - 1
    } else if (first !== undefined) baseSeq = first - 1
    const image = await storage.read(`${folder}/${imageFile(g)}`)
    const db = image && (await tryOpenImage(image, options))
    if (!image || !db) return undefined
    const manifest: Manifest = { ...best, formatVersion: FORMAT_VERSION, generation: g, imageSize: image.length, imageCrc: crc32(image), baseSeq }
    return { manifest, db, repairs: [`the manifest of generation ${g} was lost; ${why}`], heal: true }
  }
  // A newer generation that already holds commits is current, whatever the remaining slot says.
  for (const g of newer) {
    const c = await rebuilt(g, undefined, `rebuilt from ${imageFile(g)} and ${logFile(g)}, whose log holds commits`)
    if (c) return c
  }
  if (hasNoImage(best)) {
    // Never checkpointed: the database is an empty one plus the log (its creation record first).
    // A missing log means the checkpoint that removed it lost the other slot (as for an image below).
    if ((await storage.size(`${folder}/${logFile(best.generation)}`)) === undefined) {
      for (const g of newer) {
        const c = await rebuilt(g, best.baseSeq, `${logFile(best.generation)} named by the other slot was removed by that checkpoint; rebuilt from ${imageFile(g)}`)
        if (c) return c
      }
    }
    return { manifest: best, db: await SqliteDatabase.open(undefined, options.sqlJs), repairs: [], heal: lostSlot || slots[1]!.generation !== best.generation }
  }
  const imagePath = `${folder}/${imageFile(best.generation)}`
  const image = await storage.read(imagePath)
  if (image && image.length === best.imageSize && crc32(image) === best.imageCrc) {
    return { manifest: best, db: await SqliteDatabase.open(image, options.sqlJs), repairs: [], heal: lostSlot || slots[1]!.generation !== best.generation }
  }
  if (!image) {
    // The last checkpoint removed it: its successor (intact image, empty log) holds the same data.
    for (const g of newer) {
      const c = await rebuilt(g, best.baseSeq, `${imageFile(best.generation)} named by the other slot was removed by that checkpoint; rebuilt from ${imageFile(g)}`)
      if (c) return c
    }
    throw new CorruptionError(`vault image ${imagePath} is missing and no intact newer generation was found; the data it held is gone`)
  }
  const problem = `vault image ${imagePath} fails its checksum (expected ${best.imageSize} bytes, crc ${best.imageCrc}; found ${image.length} bytes)`
  if (!options.repair) throw new CorruptionError(`${problem}; open with { repair: true } to use it anyway if SQLite can still read it`)
  const db = await tryOpenImage(image, options)
  if (!db) throw new CorruptionError(`${problem}, and SQLite cannot read it: the data it held is gone`)
  const manifest: Manifest = { ...best, imageSize: image.length, imageCrc: crc32(image) }
  return { manifest, db, repairs: [`${problem}; SQLite's check passed, so it was used as it is (values in it may be damaged)`], heal: true }
}

/**
 * Write the manifest to both slots, each synced before the next. The slot of the other parity
 * first: when healing, the slot of this generation is the intact one, and it stays intact until
 * the other is durable.
 */
async function writeBothSlots(storage: StorageAdapter, folder: string, m: Manifest): Promise<void> {
  await writeManifestSlot(storage, folder, m, (m.generation + 1) % 2)
  await writeManifest(storage, folder, m)
}

/**
 * Rebuild a manifest for a folder that lost both slots (repair only): the newest generation whose
 * image passes SQLite's check and whose log has a valid header. Identity fields that only the
 * manifest held (author, description, creation time) are lost; the name is the folder's.
 */
async function rebuildManifest(storage: StorageAdapter, folder: string, files: string[], options: VaultFilesOptions): Promise<Chosen> {
  const generations = files
    .map((f) => /^image-(\d+)\.sqlite$/.exec(f)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .sort((a, b) => b - a)
  for (const g of generations) {
    const image = await storage.read(`${folder}/${imageFile(g)}`)
    const log = await storage.read(`${folder}/${logFile(g)}`)
    if (!image || !hasValidHeader(log, g)) continue
    const db = await tryOpenImage(image, options)
    if (!db) continue
    // The first record's sequence number tells where the image ended; an empty log can start anywhere.
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      generation: g,
      imageSize: image.length,
      imageCrc: crc32(image),
      baseSeq: Math.max(0, (firstRecordSeq(log) ?? 1) - 1),
      name: options.identity.name,
      author: options.identity.author,
      description: options.identity.description,
      createdAt: (options.now?.() ?? new Date()).toISOString(),
    }
    return { manifest, db, repairs: [`both manifest slots were lost; rebuilt from ${imageFile(g)} and ${logFile(g)} (author, description and creation time are lost)`], heal: true }
  }
  // Never checkpointed (no image): generation 0 is an empty database and its log, whose first
  // record is the creation record.
  const log = files.includes(logFile(0)) ? await storage.read(`${folder}/${logFile(0)}`) : undefined
  if (hasValidHeader(log, 0) && firstRecordSeq(log) === CREATION_SEQ) {
    const manifest = noImageManifest(options.identity, (options.now?.() ?? new Date()).toISOString())
    const db = await SqliteDatabase.open(undefined, options.sqlJs)
    return { manifest, db, repairs: [`both manifest slots were lost; rebuilt from ${logFile(0)} (never checkpointed; author, description and creation time are lost)`], heal: true }
  }
  missingManifest(folder, files)
}
