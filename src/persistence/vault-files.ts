import { CorruptionError, NotFoundError, fromPlatformError } from '../errors/errors.js'
import { SqliteDatabase, type SqlJsLocation, type StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { decodeStatements, encodeStatements } from './record-codec.js'
import { crc32 } from './crc32.js'
import { FORMAT_VERSION, LOG_HEADER_BYTES, MANIFEST_SLOTS, imageFile, logFile } from './format.js'
import { decodeLogHeader, encodeLogHeader, encodeRecord, hasLaterRecord, scanRecords } from './log-format.js'
import { missingManifest, readManifest, writeManifest, type Manifest } from './manifest.js'

/** `strict`: a write resolves once it is durable. `relaxed`: it resolves at once; flushed shortly after. */
export type Durability = 'strict' | 'relaxed'

/** Identity given to a new vault. */
export interface VaultIdentity {
  name: string
  author: string
  description: string
}

/** What opening found and repaired, reported by `vault.info().recovery`. */
export interface RecoveryReport {
  /** Log records replayed on top of the image. */
  replayedRecords: number
  /** Bytes of a torn or corrupt log tail that were dropped (never applied). */
  droppedBytes: number
}

/** Options of {@link VaultFiles.open}. */
export interface VaultFilesOptions {
  readOnly: boolean
  create: boolean
  identity: VaultIdentity
  sqlJs?: SqlJsLocation
  /** Called on a new vault's empty database before its first image is written (creates the schema). */
  initSchema(db: SqliteDatabase): void
  /** Called after open with the database at its latest state (migrations of older formats). */
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
 * - `image-<g>.sqlite`: a full sql.js export, written only at checkpoints;
 * - `log-<g>.log`: every commit since that image, one checksummed record each.
 * A commit appends one record (O(change)); a checkpoint writes a new image and starts a new log.
 */
export class VaultFiles {
  /** Sequence number of the last record applied to `db`. */
  lastSeq: number
  /** Offset in the log file just past the last valid record. */
  logEnd: number
  private unsynced = false
  private broken: Error | undefined

  private constructor(
    readonly storage: StorageAdapter,
    readonly folder: string,
    public manifest: Manifest,
    readonly db: SqliteDatabase,
    readonly recovery: RecoveryReport,
    private readonly sqlJs: SqlJsLocation | undefined,
  ) {
    this.lastSeq = manifest.baseSeq + recovery.replayedRecords
    this.logEnd = 0
  }

  /** Path of the current log file. */
  get logPath(): string {
    return `${this.folder}/${logFile(this.manifest.generation)}`
  }

  /** Open (or create) the vault in `folder`. Nothing is written before the format version is checked. */
  static async open(storage: StorageAdapter, folder: string, options: VaultFilesOptions): Promise<VaultFiles> {
    let manifest = await readManifest(storage, folder)
    if (!manifest) {
      // Names starting with '.' are not vault files (the lock files of processes sharing the folder).
      const files = (await storage.list(folder)).filter((f) => !f.startsWith('.'))
      if (files.length > 0 && !(await isAbandonedCreation(storage, folder, files))) {
        if (!options.repair || options.readOnly) missingManifest(folder, files)
        manifest = await rebuildManifest(storage, folder, files, options)
      }
    }
    if (!manifest) {
      const files = (await storage.list(folder)).filter((f) => !f.startsWith('.'))
      if (!options.create) throw new NotFoundError(`vault "${options.identity.name}" does not exist`)
      if (options.readOnly) throw new NotFoundError(`vault "${options.identity.name}" does not exist (and readOnly forbids creating it)`)
      for (const f of files) await storage.remove(`${folder}/${f}`)
      manifest = await createVault(storage, folder, options)
    }

    const imagePath = `${folder}/${imageFile(manifest.generation)}`
    const image = await storage.read(imagePath)
    if (!image) throw new CorruptionError(`vault image ${imagePath} is missing`)
    if (image.length !== manifest.imageSize || crc32(image) !== manifest.imageCrc) {
      throw new CorruptionError(`vault image ${imagePath} fails its checksum (expected ${manifest.imageSize} bytes, crc ${manifest.imageCrc})`)
    }
    const db = await SqliteDatabase.open(image, options.sqlJs)

    const logPath = `${folder}/${logFile(manifest.generation)}`
    const logBytes = await storage.read(logPath)
    if (!logBytes) {
      db.close()
      throw new CorruptionError(`vault log ${logPath} is missing`)
    }
    try {
      decodeLogHeader(logBytes, manifest.generation)
    } catch (err) {
      db.close()
      throw err
    }
    const scan = scanRecords(logBytes.subarray(LOG_HEADER_BYTES), LOG_HEADER_BYTES, manifest.baseSeq)
    if (scan.droppedBytes > 0 && !options.repair) {
      const lastGood = manifest.baseSeq + scan.records.length
      if (hasLaterRecord(logBytes.subarray(LOG_HEADER_BYTES), scan.validEnd - LOG_HEADER_BYTES, lastGood)) {
        db.close()
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
      db.close()
      throw new CorruptionError(`vault log ${logPath} holds a record that does not apply: ${(err as Error).message}`, { cause: err })
    }
    const files = new VaultFiles(storage, folder, manifest, db, { replayedRecords: scan.records.length, droppedBytes: scan.droppedBytes }, options.sqlJs)
    files.logEnd = scan.validEnd
    if (!options.readOnly) {
      // The next append must follow the last good record, not the torn bytes after it.
      if (scan.droppedBytes > 0) {
        await storage.truncate(logPath, scan.validEnd)
        await storage.sync(logPath)
      }
      await files.removeStrayFiles()
    }
    return files
  }

  /** Append one commit to the log. With `strict`, resolves once the record is durable. */
  async append(groups: StatementGroup[], durability: Durability): Promise<void> {
    if (this.broken) throw this.broken
    const seq = this.lastSeq + 1
    const frame = encodeRecord(seq, encodeStatements(groups))
    const path = this.logPath
    try {
      await this.storage.append(path, frame)
      if (durability === 'strict') await this.storage.sync(path)
      else this.unsynced = true
    } catch (err) {
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
    } catch (err) {
      this.unsynced = true // still not durable: the next flush (or close) tries again
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
      // Out of space, typically: do not leave a partial image behind (nor, in a buffering adapter
      // such as IndexedDB's, unsynced bytes that a later sync or close would keep failing on).
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
      throw err
    }
    this.manifest = next
    this.logEnd = LOG_HEADER_BYTES
    await this.storage.remove(`${this.folder}/${imageFile(old.generation)}`)
    await this.storage.remove(`${this.folder}/${logFile(old.generation)}`)
  }

  private async removeStrayFiles(): Promise<void> {
    const keep = new Set<string>([...MANIFEST_SLOTS, imageFile(this.manifest.generation), logFile(this.manifest.generation)])
    for (const name of await this.storage.list(this.folder)) {
      if ((name.startsWith('image-') || name.startsWith('log-')) && !keep.has(name)) await this.storage.remove(`${this.folder}/${name}`)
    }
  }

  /** Flush and release the database (the storage adapter is the caller's). */
  async close(): Promise<void> {
    try {
      await this.flush()
    } finally {
      this.db.close()
    }
  }

  /** The sql.js location this vault was opened with (reused to reload images). */
  get sqlJsLocation(): SqlJsLocation | undefined {
    return this.sqlJs
  }
}

async function createVault(storage: StorageAdapter, folder: string, options: VaultFilesOptions): Promise<Manifest> {
  const db = await SqliteDatabase.open(undefined, options.sqlJs)
  let image: Uint8Array
  try {
    options.initSchema(db)
    image = db.exportImage()
  } finally {
    db.close()
  }
  const imagePath = `${folder}/${imageFile(0)}`
  const logPath = `${folder}/${logFile(0)}`
  await storage.write(imagePath, image)
  await storage.sync(imagePath)
  await storage.write(logPath, encodeLogHeader(0))
  await storage.sync(logPath)
  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION,
    generation: 0,
    imageSize: image.length,
    imageCrc: crc32(image),
    baseSeq: 0,
    ...options.identity,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
  }
  // The manifest is written last: until it is durable, the folder is an abandoned creation.
  await writeManifest(storage, folder, manifest)
  return manifest
}

/** A folder left by a crash during creation: generation-0 files only, no records, no manifest. */
async function isAbandonedCreation(storage: StorageAdapter, folder: string, files: string[]): Promise<boolean> {
  const allowed = new Set([imageFile(0), logFile(0), ...MANIFEST_SLOTS])
  if (!files.every((f) => allowed.has(f))) return false
  const logSize = (await storage.size(`${folder}/${logFile(0)}`)) ?? 0
  return logSize <= LOG_HEADER_BYTES
}

/**
 * Rebuild a manifest for a folder that lost both slots (repair only): the newest generation whose
 * image passes SQLite's check and whose log has a valid header. Identity fields that only the
 * manifest held (author, description, creation time) are lost; the name is the folder's.
 */
async function rebuildManifest(storage: StorageAdapter, folder: string, files: string[], options: VaultFilesOptions): Promise<Manifest> {
  const generations = files
    .map((f) => /^image-(\d+)\.sqlite$/.exec(f)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .sort((a, b) => b - a)
  for (const g of generations) {
    const image = await storage.read(`${folder}/${imageFile(g)}`)
    const log = await storage.read(`${folder}/${logFile(g)}`)
    if (!image || !log) continue
    try {
      decodeLogHeader(log, g)
      const db = await SqliteDatabase.open(image, options.sqlJs)
      db.close()
    } catch {
      continue
    }
    // The first record's sequence number tells where the image ended; an empty log can start anywhere.
    const view = new DataView(log.buffer, log.byteOffset, log.byteLength)
    const firstSeq = log.length >= LOG_HEADER_BYTES + 16 ? view.getUint32(LOG_HEADER_BYTES + 8, true) + view.getUint32(LOG_HEADER_BYTES + 12, true) * 0x1_0000_0000 : 1
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      generation: g,
      imageSize: image.length,
      imageCrc: crc32(image),
      baseSeq: Math.max(0, firstSeq - 1),
      name: options.identity.name,
      author: options.identity.author,
      description: options.identity.description,
      createdAt: (options.now?.() ?? new Date()).toISOString(),
    }
    await writeManifest(storage, folder, manifest)
    return manifest
  }
  missingManifest(folder, files)
}
