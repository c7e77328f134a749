import { ConflictError, CorruptionError, VaultError } from '../errors/errors.js'
import { fromPlatformError } from '../errors/platform-error.js'
import { SqliteDatabase, type SqlJsLocation, type StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { encodeStatements } from './record-codec.js'
import { crc32 } from './crc32.js'
import { FORMAT_VERSION, LOG_HEADER_BYTES, MANIFEST_SLOTS, imageFile, logFile } from './format.js'
import { encodeLogHeader, encodeRecord } from './log-format.js'
import { writeManifest, writeManifestSlot, type Manifest } from './manifest.js'
import { hasNoImage, type VaultIdentity } from './vault-creation.js'
import { openFiles } from './vault-open.js'
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
  /** A new vault's own values, the creation record's last group (CreationOptions.creationRows). */
  creationRows?(): StatementGroup[]
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
  /**
   * The creation's files, still being written in the background (this open created the vault and
   * answered before they were durable): everything that writes or reads the files waits for it
   * ({@link whenDurable}). Undefined once they are durable.
   */
  private creation: { promise: Promise<void>; error?: Error } | undefined
  /** Writes the creation's files again (after a failure); undefined when the files are shared. */
  private rewriteCreation: (() => Promise<void>) | undefined

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
      return await openFiles(storage, folder, options, VaultFiles.make)
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

  /** @internal used by {@link openFiles}: this open created the vault, whose files become durable with `durable`. */
  startCreation(durable: Promise<void>, rewrite: () => Promise<void>, hurry: () => void): void {
    this.rewriteCreation = rewrite
    this.hurry = hurry
    this.watchCreation(durable)
  }

  /** Starts the creation's durable steps if they still wait (createVault's `hurry`). */
  hurry: () => void = () => {}

  private watchCreation(written: Promise<void>): void {
    const context = `creating vault "${this.manifest.name}"`
    const promise = written.catch((err: unknown) => {
      const typed = fromPlatformError(err, context)
      throw VaultError.isVaultError(typed) ? typed : new VaultError(`${context}: ${(typed as Error).message ?? String(typed)}`, { cause: err })
    })
    const state: { promise: Promise<void>; error?: Error } = { promise }
    promise.then(
      () => {
        if (this.creation === state) this.creation = undefined
      },
      (err: Error) => (state.error = err),
    )
    this.creation = state
  }

  /**
   * Undefined when the vault's files are durable (always, except just after this open created the
   * vault); otherwise a promise that resolves once they are, or rejects with the creation's typed
   * error. After a failure, the next call writes the creation's files again (not when the files
   * are shared with other processes: the lock that covered the creation is gone by then).
   */
  whenDurable(): Promise<void> | undefined {
    const creation = this.creation
    if (!creation) return undefined
    this.hurry()
    if (creation.error && this.rewriteCreation) this.watchCreation(this.rewriteCreation())
    return this.creation!.promise
  }

  /** The creation's files are not known to be durable yet (or their writing failed). */
  get creationPending(): boolean {
    return this.creation !== undefined
  }

  /** The creation's files could not be written: the vault lives only in memory (reads still work). */
  get creationFailed(): boolean {
    return this.creation?.error !== undefined
  }

  /**
   * Run `after` once the creation's files are durable or failed, before anything waiting for
   * {@link whenDurable} goes on (the creator's lock is given up there); no retry after a failure.
   */
  afterCreation(after: () => void): void {
    if (!this.creation) return after()
    this.rewriteCreation = undefined
    this.watchCreation(this.creation.promise.finally(after))
  }

  /** Append one commit to the log. With `strict`, resolves once the record is durable. */
  async append(groups: StatementGroup[], durability: Durability): Promise<void> {
    if (this.broken) throw this.broken
    const creation = this.whenDurable()
    if (creation) await creation
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
    const creation = this.whenDurable()
    if (creation) await creation
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
  async removeStrayFiles(listed: readonly string[]): Promise<void> {
    const keep = new Set<string>([...MANIFEST_SLOTS, imageFile(this.manifest.generation), logFile(this.manifest.generation)])
    for (const name of listed) {
      if ((name.startsWith('image-') || name.startsWith('log-')) && !keep.has(name)) await this.storage.remove(`${this.folder}/${name}`)
    }
  }

  /** Flush and release the database and every file handle of this vault (the adapter is the caller's). */
  async close(): Promise<void> {
    try {
      // A creation still being written is waited for (and tried again once if it failed): the
      // files are released only after it; its failure is the close's.
      await this.whenDurable()
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
