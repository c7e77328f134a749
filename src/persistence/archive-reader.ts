import { concatBytes } from '../codec/bytes.js'
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate'
import { AlreadyExistsError, ConflictError, CorruptionError, InvalidArgumentError, UnsupportedError } from '../errors/errors.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { ARCHIVE_HEADER, DEFAULT_MAX_COMPRESSION_RATIO, MAX_HEADER_BYTES, RATIO_SLACK_BYTES, archiveFileKind, parseArchiveHeader, sha256Hex, type ArchiveFile, type ArchiveHeader } from './archive-format.js'
import { crc32 } from './crc32.js'
import { createSha256, type Sha256Hash } from '../codec/sha256.js'
import { sqliteImageProblem } from '../sqlite/image-header.js'
import { BLOB_FOLDER, FORMAT_VERSION, LOG_HEADER_BYTES, MANIFEST_SLOTS, imageFile, logFile } from './format.js'
import { decodeLogHeader } from './log-format.js'
import { decodeManifest, readManifest, writeManifest, writeManifestSlot, type Manifest } from './manifest.js'
import { isVaultFolderEntry } from './vault-folder.js'

/** Limits an import enforces (importVault's options; docs/export-import.md, "Limits"). */
export interface ImportLimits {
  /** Refuse an archive whose files add up to more than this many bytes. */
  maxTotalBytes: number
  /** Refuse an archive that inflates to more than this many times its compressed size. */
  maxCompressionRatio: number
}

/**
 * The hashes of every blob the rows of a vault image refer to (what the vault's reads will ask
 * for). The domains know which columns hold blob hashes and sql.js reads the image, both above this
 * layer: the opener that has them passes this (Node's importVault, the browser's import worker).
 */
export type ImageBlobReferences = (image: Uint8Array) => Promise<Iterable<string>>

/** Defaults of {@link ImportLimits}: 8 GiB, 250:1. */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = { maxTotalBytes: 8 * 1024 ** 3, maxCompressionRatio: DEFAULT_MAX_COMPRESSION_RATIO }

/**
 * Input is handed to the unzipper in pieces this small: one piece inflates to at most ~16 MiB
 * before a check runs, and an entry's compressed size is known to within a piece.
 */
const FEED_BYTES = 16 * 1024
/**
 * A blob larger than this is written as it inflates, never held whole (a 1 GB blob needed 1 GB of
 * memory): appended to its file in pieces of about {@link STREAM_WRITE_BYTES}, hashed as they go.
 * Smaller files are held and written at once (one write, not many appends), as an export holds them.
 */
export const STREAM_FILE_BYTES = 16 * 1024 * 1024
/** The pieces a streamed blob is appended in (one feed piece inflates to at most ~16 MiB more). */
const STREAM_WRITE_BYTES = 1024 * 1024
/**
 * A streamed blob is synced every this many bytes: an adapter may hold what was appended until its
 * sync (IndexedDB keeps its dirty blocks in memory until the commit that writes them).
 */
const STREAM_SYNC_BYTES = 32 * 1024 * 1024

/** An entry being inflated. */
interface Entry {
  file: UnzipFile
  declared: ArchiveFile | undefined
  parts: Uint8Array[]
  bytes: number
  isHeader: boolean
  /** Archive bytes fed before this entry began (its compressed size is what was fed since, within a piece). */
  startIn: number
  /** A blob over {@link STREAM_FILE_BYTES}: its pieces are written as they come ({@link Streamed}). */
  stream: boolean
  /** Set by the first piece written of a streamed entry. */
  streamed?: Streamed
}

/** A blob being written as it inflates. */
interface Streamed {
  path: string
  hash: Sha256Hash
  written: number
  /** Bytes appended since its last sync. */
  unsynced: number
  /**
   * Its file was already there (a blob the vault being replaced holds too): appending to it would
   * damage that vault if the import failed or crashed midway, so the entry is held whole and
   * written at once, as before.
   */
  whole: boolean
}

/**
 * An entry complete and waiting to be verified and written; a streamed entry's bytes so far
 * (`final` on its last); or an error to raise in order.
 */
type UnzipEvent = { entry: Entry; bytes: Uint8Array } | { entry: Entry; final: boolean } | { error: Error }

/**
 * Writes a vault from a labvault archive (src/persistence/archive-format.ts) into `folder` of a
 * storage adapter, as the archive's bytes arrive ({@link push}), checking everything on the way:
 * entry names, declared sizes and checksums, the compression ratio and total size. Each file is
 * written once it is complete and verified, except a blob over {@link STREAM_FILE_BYTES}, written as
 * it inflates and verified at its end (removed if it fails); the log and then the manifest slots are written last by
 * {@link finish}: the manifest is the commit point, so until then the folder is no vault that
 * opens (docs/format.md, "Archive"). {@link abort} (and any refusal) removes what was written.
 *
 * With `replace`, an existing vault in `folder` stays current until that commit point: the archive's
 * image and log are written as the generation after the existing one (a checkpoint's protocol), and
 * the old generation's files and blobs go after the switch.
 */
export class ArchiveImporter {
  private readonly unzip: Unzip
  private readonly events: UnzipEvent[] = []
  private header: ArchiveHeader | undefined
  private readonly expected = new Map<string, ArchiveFile>()
  private readonly received = new Set<string>()
  private current: Entry | undefined
  private readonly seen = new Set<string>()
  private entries = 0
  private inBytes = 0
  /** The archive's last bytes (up to {@link TAIL_BYTES}): where its end-of-central-directory record is. */
  private tail = new Uint8Array(0)
  private failed: Error | undefined
  /** An error this importer raised inside the unzipper's callbacks (fflate hands it back wrapped). */
  private raised: Error | undefined
  private done = false
  /** The first manifest slot is durable: the folder is the imported vault, which nothing may remove. */
  private committed = false
  /**
   * Paths this import created (removed again by abort). Only these: whatever else is in the folder
   * when the import fails (a vault someone made there meanwhile, through a storage no lock covers)
   * is not this import's to remove.
   */
  private readonly created = new Set<string>()
  private folderWasEmpty = true
  private old: Manifest | undefined
  /**
   * The highest generation of an image or log already in the folder (-1: none). The import writes
   * above it: a folder holding a vault whose manifest is damaged has no `old`, and the archive's
   * image, written under its own generation, replaced that vault's image of the same name, so a
   * failed import left it unrecoverable by `repair` (it held the archive's data instead).
   */
  private highestPresent = -1
  private generation = 0
  private manifest: Manifest | undefined
  private log: Uint8Array | undefined
  private image: { size: number; crc: number } | undefined
  /** Bytes of vault files written so far (progress). */
  bytesWritten = 0

  private constructor(
    private readonly storage: StorageAdapter,
    private readonly folder: string,
    private readonly vaultName: string,
    private readonly limits: ImportLimits,
    private readonly replace: boolean,
    private readonly blobReferences: ImageBlobReferences | undefined,
  ) {
    this.unzip = new Unzip((file) => {
      try {
        this.startEntry(file)
      } catch (err) {
        throw (this.raised ??= err as Error)
      }
    })
    this.unzip.register(UnzipInflate)
  }

  /**
   * Begin an import into `folder` (the vault `name`). Refuses an existing vault (AlreadyExistsError)
   * unless `replace`; a folder holding files that are not a vault's is refused either way.
   */
  static async begin(storage: StorageAdapter, folder: string, name: string, limits: ImportLimits, replace: boolean, blobReferences?: ImageBlobReferences): Promise<ArchiveImporter> {
    const importer = new ArchiveImporter(storage, folder, name, limits, replace, blobReferences)
    // Dot files are no vault's content: `.lock` is there when the caller holds the vault's lock file.
    const entries = (await storage.list(folder)).filter((e) => !e.startsWith('.'))
    if (entries.length > 0) {
      const foreign = entries.filter((e) => !isVaultFolderEntry(e))
      if (foreign.length > 0) throw new InvalidArgumentError(`importVault: "${name}" is a folder holding files that are not a vault's (${foreign.slice(0, 5).join(', ')}); nothing was written`)
      let existing: Manifest | undefined
      try {
        existing = await readManifest(storage, folder)
      } catch (err) {
        if (!replace) throw new AlreadyExistsError(`vault "${name}" already exists (written by a newer labvault); pass { replace: true } to replace it`, { cause: err })
        throw err
      }
      if (!replace) {
        throw new AlreadyExistsError(
          existing
            ? `vault "${name}" already exists; pass { replace: true } to replace it (it stays as it is until the import completes)`
            : `"${name}" holds the files of a vault that does not open (an interrupted import or a damaged vault); delete it, open it with { repair: true }, or pass { replace: true }`,
        )
      }
      importer.folderWasEmpty = false
      importer.old = existing
      for (const e of entries) {
        const g = /^(?:image-(\d+)\.sqlite|log-(\d+)\.log)$/.exec(e)
        if (g) importer.highestPresent = Math.max(importer.highestPresent, Number(g[1] ?? g[2]))
      }
    }
    return importer
  }

  /** Feed the next bytes of the archive. Rejects (and removes what was written) when the archive is refused. */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.failed) throw this.failed
    if (this.done) throw new InvalidArgumentError('importVault: the import is finished')
    try {
      for (let at = 0; at < chunk.length; at += FEED_BYTES) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + FEED_BYTES))
        this.inBytes += piece.length
        this.keepTail(piece)
        this.feed(piece, false)
        await this.drain()
      }
    } catch (err) {
      await this.fail(err)
    }
  }

  /** The archive ended: check that every declared file came, then write the log and commit the manifest. */
  async finish(): Promise<void> {
    if (this.failed) throw this.failed
    try {
      this.feed(new Uint8Array(0), true)
      await this.drain()
      if (!this.header) throw new InvalidArgumentError(`importVault: this is not a labvault archive (no ${ARCHIVE_HEADER} entry, or not a zip at all); nothing was written`)
      if (this.current) throw new CorruptionError(`importVault: the archive ends inside ${this.current.file.name}: it is truncated; nothing was written`)
      const missing = [...this.expected.keys()].filter((p) => !this.received.has(p))
      if (missing.length > 0) throw new CorruptionError(`importVault: the archive lacks ${missing.length} file(s) its header lists (${missing.slice(0, 3).join(', ')}): it is truncated; nothing was written`)
      // Every file came and checked out, but an archive cut inside its trailing directory is a
      // truncated download all the same: refused, so that a damaged copy is never taken for whole.
      const ended = endOfCentralDirectory(this.tail)
      if (ended === undefined) throw new CorruptionError('importVault: the archive has no end-of-central-directory record: it is truncated; nothing was written')
      if (ended !== this.entries) throw new CorruptionError(`importVault: the archive's directory lists ${ended} entries but it holds ${this.entries}: it is damaged; nothing was written`)
      await this.commit()
      this.done = true
    } catch (err) {
      await this.fail(err)
    }
  }

  /** Give up: remove everything this import wrote (an existing vault it was to replace stays). */
  async abort(reason?: unknown): Promise<void> {
    if (this.done) return
    await this.fail(reason ?? new InvalidArgumentError('importVault: aborted'))
  }

  private keepTail(piece: Uint8Array): void {
    if (piece.length >= TAIL_BYTES) {
      this.tail = piece.slice(piece.length - TAIL_BYTES)
      return
    }
    const keep = Math.min(this.tail.length, TAIL_BYTES - piece.length)
    const next = new Uint8Array(keep + piece.length)
    next.set(this.tail.subarray(this.tail.length - keep))
    next.set(piece, keep)
    this.tail = next
  }

  private feed(piece: Uint8Array, final: boolean): void {
    try {
      this.unzip.push(piece, final)
    } catch (err) {
      if (this.raised) throw this.raised
      if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'number') {
        throw new CorruptionError(`importVault: the archive is truncated or not a readable zip (${err.message}); nothing was written`, { cause: err })
      }
      throw err
    }
  }

  private async fail(err: unknown): Promise<never> {
    // Once committed the folder is the imported vault: nothing of it is removed, whatever fails.
    if (this.committed) throw err
    if (!this.failed) {
      this.failed = err instanceof Error ? err : new InvalidArgumentError(String(err))
      this.done = true
      this.current?.file.terminate()
      this.events.length = 0
      try {
        // Only what this import wrote (the folder, emptied, is no vault: folders exist only while
        // they hold files). Removing the whole folder when it was empty at begin() also removed a
        // vault created there while the import ran.
        for (const path of this.created) await this.storage.remove(path)
      } catch {
        // What could not be removed is no vault that opens (no manifest names it); a retry with
        // { replace: true } or deleteVault clears it.
      }
    }
    throw this.failed
  }

  /** Verify and write the entries the last piece completed, in order. */
  private async drain(): Promise<void> {
    while (this.events.length > 0) {
      const e = this.events.shift()!
      if ('error' in e) throw e.error
      if ('final' in e) await this.streamPiece(e.entry, e.final)
      else await this.endEntry(e.entry, e.bytes)
    }
  }

  /**
   * A new entry (called by the unzipper, synchronously inside `push`): its name is checked and its
   * bytes are taken at once, so each piece's output is known before the next piece is fed.
   */
  private startEntry(file: UnzipFile): void {
    if (this.failed) return file.terminate()
    if (this.current) throw new CorruptionError(`importVault: entry ${file.name} starts inside ${this.current.file.name}; nothing was written`)
    const isHeader = this.entries === 0
    this.entries++
    if (isHeader && file.name !== ARCHIVE_HEADER) {
      throw new InvalidArgumentError(`importVault: this is not a labvault archive (its first entry is ${JSON.stringify(file.name.slice(0, 100))}, not ${ARCHIVE_HEADER}); nothing was written`)
    }
    let declared: ArchiveFile | undefined
    if (!isHeader) {
      archiveFileKind(file.name) // refuses names that are no vault file's (path traversal included)
      declared = this.expected.get(file.name)
      if (!declared) throw new InvalidArgumentError(`importVault: entry ${JSON.stringify(file.name)} is not listed in the archive's header; nothing was written`)
      if (this.seen.has(file.name)) throw new InvalidArgumentError(`importVault: entry ${file.name} appears twice; nothing was written`)
      this.seen.add(file.name)
    }
    const limit = isHeader ? MAX_HEADER_BYTES : declared!.size
    const stream = !isHeader && declared!.size > STREAM_FILE_BYTES && archiveFileKind(file.name).kind === 'blob'
    const entry: Entry = { file, declared, parts: [], bytes: 0, isHeader, startIn: this.inBytes - FEED_BYTES, stream }
    this.current = entry
    file.ondata = (err, data, final) => {
      // fflate catches what this callback throws and calls it again with the error: ours pass as they are.
      if (err) throw this.raised ?? new CorruptionError(`importVault: ${file.name} does not inflate (${err.message}): the archive is damaged; nothing was written`, { cause: err })
      entry.bytes += data.length
      // Checked as the bytes come, inside the unzipper's push: a bomb never fills memory.
      if (entry.bytes > limit) {
        throw (this.raised = new InvalidArgumentError(`importVault: ${file.name} is larger than ${isHeader ? 'a header may be' : `its declared ${limit} bytes`}; nothing was written`))
      }
      // Per entry, so that incompressible padding around a bomb does not hide it.
      const packed = this.inBytes - entry.startIn
      if (entry.bytes > RATIO_SLACK_BYTES && entry.bytes > this.limits.maxCompressionRatio * packed) {
        throw (this.raised = new InvalidArgumentError(
          `importVault: ${file.name} inflates beyond ${this.limits.maxCompressionRatio}:1 (${entry.bytes} bytes from at most ${packed}), the maxCompressionRatio option's limit: a zip bomb? Nothing was written`,
        ))
      }
      if (data.length > 0) entry.parts.push(data)
      if (entry.stream) {
        // Written by drain(), after this piece of input: the parts held are at most one piece's output.
        if (final) this.current = undefined
        this.events.push({ entry, final })
        return
      }
      if (!final) return
      this.current = undefined
      const bytes = concatBytes(entry.parts, entry.bytes)
      entry.parts.length = 0
      try {
        if (isHeader) this.takeHeader(bytes)
        else this.events.push({ entry, bytes })
      } catch (e) {
        throw (this.raised = e as Error)
      }
    }
    file.start()
  }

  /** The header entry: parsed at once (the next entry's name is checked against it). */
  private takeHeader(bytes: Uint8Array): void {
    this.header = parseArchiveHeader(bytes, FORMAT_VERSION)
    const total = this.header.files.reduce((n, f) => n + f.size, 0)
    if (total > this.limits.maxTotalBytes) {
      throw new InvalidArgumentError(`importVault: the archive holds ${total} bytes, more than the maxTotalBytes option's limit (${this.limits.maxTotalBytes}); nothing was written`)
    }
    for (const f of this.header.files) this.expected.set(f.path, f)
    this.generation = Math.max(this.header.vault.generation, (this.old?.generation ?? -1) + 1, this.highestPresent + 1)
  }

  /**
   * A streamed blob's bytes so far: appended to its file once about {@link STREAM_WRITE_BYTES} have
   * come (or at its end), hashed as they go; at its end, its size and SHA-256 are checked as a whole
   * file's are (a failure removes the file with everything else this import wrote) and it is synced.
   */
  private async streamPiece(entry: Entry, final: boolean): Promise<void> {
    const declared = entry.declared!
    const s = (entry.streamed ??= await this.beginStream(declared))
    if (s.whole) {
      if (final) await this.endEntry(entry, concatBytes(entry.parts, entry.bytes))
      return
    }
    const pending = entry.bytes - s.written
    if (pending > 0 && (final || pending >= STREAM_WRITE_BYTES)) {
      const bytes = concatBytes(entry.parts, pending)
      entry.parts.length = 0
      s.hash.update(bytes)
      await this.storage.append(s.path, bytes)
      s.written += bytes.length
      s.unsynced += bytes.length
      this.bytesWritten += bytes.length
    }
    if (!final) {
      if (s.unsynced >= STREAM_SYNC_BYTES) {
        await this.storage.sync(s.path)
        s.unsynced = 0
      }
      return
    }
    if (s.written !== declared.size) throw new CorruptionError(`importVault: ${declared.path} holds ${s.written} bytes, its header says ${declared.size}: the archive is damaged; nothing was written`)
    if (s.hash.hex() !== declared.sha256) throw new CorruptionError(`importVault: ${declared.path} fails its SHA-256: the archive is damaged; nothing was written`)
    await this.storage.sync(s.path)
    this.received.add(declared.path)
  }

  /** Where a streamed blob goes; a file already there keeps the entry whole (see {@link Streamed}). */
  private async beginStream(declared: ArchiveFile): Promise<Streamed> {
    const path = `${this.folder}/${declared.path}`
    const whole = (await this.storage.size(path)) !== undefined
    // Marked before the first append: a failure after it removes the part written.
    if (!whole) this.created.add(path)
    return { path, hash: createSha256(), written: 0, unsynced: 0, whole }
  }

  private async endEntry(entry: Entry, bytes: Uint8Array): Promise<void> {
    const declared = entry.declared!
    if (bytes.length !== declared.size) throw new CorruptionError(`importVault: ${declared.path} holds ${bytes.length} bytes, its header says ${declared.size}: the archive is damaged; nothing was written`)
    if ((await sha256Hex(bytes)) !== declared.sha256) throw new CorruptionError(`importVault: ${declared.path} fails its SHA-256: the archive is damaged; nothing was written`)
    this.received.add(declared.path)
    const kind = archiveFileKind(declared.path)
    if (kind.kind === 'manifest') {
      const m = decodeManifest(bytes)
      if (!m) throw new InvalidArgumentError(`importVault: ${declared.path} is not a labvault manifest; nothing was written`)
      if (m.formatVersion > FORMAT_VERSION) throw new UnsupportedError(`importVault: the archive's vault has format version ${m.formatVersion}; this labvault reads up to ${FORMAT_VERSION}. Nothing was written`)
      if (m.generation !== this.header!.vault.generation) throw new InvalidArgumentError(`importVault: ${declared.path} names generation ${m.generation}, the header ${this.header!.vault.generation}; nothing was written`)
      const problem = manifestProblem(m)
      if (problem) throw new InvalidArgumentError(`importVault: ${declared.path} is not a manifest labvault writes (${problem}); nothing was written`)
      this.manifest = m
      return
    }
    if (kind.kind === 'log') {
      try {
        decodeLogHeader(bytes, kind.generation)
      } catch (err) {
        throw new InvalidArgumentError(`importVault: ${declared.path} is not a labvault log (${(err as Error).message}); nothing was written`)
      }
      this.log = bytes // written by commit(), after the image: see the class comment
      return
    }
    const path = kind.kind === 'image' ? `${this.folder}/${imageFile(this.generation)}` : `${this.folder}/${declared.path}`
    if (kind.kind === 'image') {
      const problem = sqliteImageProblem(bytes)
      if (problem) throw new InvalidArgumentError(`importVault: ${declared.path} is not a SQLite database (${problem}); nothing was written`)
      this.image = { size: bytes.length, crc: crc32(bytes) }
      await this.checkBlobReferences(declared.path, bytes)
    }
    await this.writeFile(path, bytes)
  }

  /**
   * Every blob the image's rows refer to must be a file of the archive. An export always holds
   * them (it refuses a vault whose blob is missing), but a hand-made archive lacking one imported,
   * and each read of that value failed later (CorruptionError) in a vault that looked whole.
   * Checked against the header's list, which is enough: finish() refuses an archive that lacks a
   * file its header lists, and every file is checked against its SHA-256. Cheap: one open of the
   * image (already in memory here) and the garbage collector's queries. The log's records are not
   * replayed: an export's log is only its header (docs/export-import.md, "Limits").
   */
  private async checkBlobReferences(path: string, image: Uint8Array): Promise<void> {
    if (!this.blobReferences) return
    const missing: string[] = []
    for (const hash of await this.blobReferences(image)) {
      if (!this.expected.has(`${BLOB_FOLDER}/${hash.slice(0, 2)}/${hash}`)) missing.push(hash)
    }
    if (missing.length > 0) {
      throw new CorruptionError(`importVault: ${path} refers to ${missing.length} blob(s) the archive does not hold (${missing.slice(0, 3).join(', ')}): the archive is incomplete, its reads would fail; nothing was written`)
    }
  }

  private async writeFile(path: string, bytes: Uint8Array): Promise<void> {
    if ((await this.storage.size(path)) === undefined) this.created.add(path)
    await this.storage.write(path, bytes)
    await this.storage.sync(path)
    this.bytesWritten += bytes.length
  }

  /**
   * Just before the commit point: the folder must still hold what begin() found (no vault, or the
   * vault being replaced at the same generation). The callers hold what keeps other writers out
   * (Node: the vault's lock file; browsers: its leader lock); this check is what is left for a
   * storage none covers, so a vault that appeared meanwhile is refused, not overwritten.
   */
  private async checkStillOurs(): Promise<void> {
    let now: Manifest | undefined
    try {
      now = await readManifest(this.storage, this.folder)
    } catch (err) {
      throw new AlreadyExistsError(`importVault: a vault "${this.vaultName}" that this build cannot read appeared while it was imported; nothing of it was touched, nothing was written`, { cause: err })
    }
    if (!this.old && now) throw new AlreadyExistsError(`importVault: vault "${this.vaultName}" was created while it was imported; it was left as it is, and nothing was written`)
    if (this.old && now?.generation !== this.old.generation) {
      throw new ConflictError(`importVault: vault "${this.vaultName}" changed while it was being replaced (generation ${this.old.generation}, now ${now?.generation ?? 'none'}); it was left as it is, and nothing was written`)
    }
  }

  /** Log, then the manifest slots (the commit point), then (replace) the old generation's files. */
  private async commit(): Promise<void> {
    const m = this.manifest!
    if (!this.image || m.imageSize !== this.image.size || m.imageCrc !== this.image.crc) {
      throw new CorruptionError(`importVault: the archive's image does not match its manifest (size or CRC-32); nothing was written`)
    }
    await this.checkStillOurs()
    const g = this.generation
    const log = this.log!.slice()
    // The archive's log, renumbered to the generation it becomes here (its records are unchanged).
    new DataView(log.buffer, log.byteOffset, LOG_HEADER_BYTES).setUint32(12, g, true)
    await this.writeFile(`${this.folder}/${logFile(g)}`, log)
    const next: Manifest = { ...m, generation: g, name: this.vaultName }
    const slotPath = `${this.folder}/${MANIFEST_SLOTS[g % 2]}`
    const otherPath = `${this.folder}/${MANIFEST_SLOTS[(g + 1) % 2]}`
    if ((await this.storage.size(otherPath)) === undefined) this.created.add(otherPath)
    // What the commit slot holds now (the replaced vault's manifest, or nothing), to put back if its write fails.
    const previous = await this.storage.read(slotPath)
    try {
      await writeManifest(this.storage, this.folder, next)
    } catch (err) {
      await this.undoCommitSlot(slotPath, previous)
      throw err
    }
    // Committed: the folder is the imported vault. Nothing after this may fail the import, nor
    // remove what it wrote (fail() removing the new image and log here, after a failed write of
    // the other slot or a failed removal of an old file, left manifests naming files that were
    // gone: neither the old vault nor the new one opened).
    this.committed = true
    this.done = true
    try {
      await writeManifestSlot(this.storage, this.folder, next, (g + 1) % 2)
    } catch {
      // As a checkpoint does (vault-files.ts): keep the old generation's files, so that the other
      // slot, if it still names them, names files that exist. The next open removes them.
      return
    }
    if (this.folderWasEmpty) return
    await this.removeReplaced(g).catch(() => {
      // A file of the replaced vault that could not be removed is garbage, as a crashed
      // checkpoint leaves: the next open removes stray images and logs.
    })
  }

  /**
   * The commit slot's write (or its sync) failed: the new manifest may be in it all the same. Put
   * back what it held (or remove it, for a new vault), so the folder is again what it was; if even
   * that fails, keep every file this import wrote: a manifest naming them may be on disk, and then
   * they are the vault (removing them left a manifest naming missing files).
   */
  private async undoCommitSlot(slotPath: string, previous: Uint8Array | undefined): Promise<void> {
    try {
      if (previous) {
        await this.storage.write(slotPath, previous)
        await this.storage.sync(slotPath)
      } else {
        await this.storage.remove(slotPath)
        this.created.delete(slotPath)
      }
    } catch {
      this.created.clear()
    }
  }

  /** After the commit of a replacing import: remove the old generation's files and the blobs the archive does not hold. */
  private async removeReplaced(g: number): Promise<void> {
    const keepBlobs = new Set(this.header!.files.map((f) => f.path))
    for (const name of await this.storage.list(this.folder)) {
      if ((MANIFEST_SLOTS as readonly string[]).includes(name) || name.startsWith('.')) continue
      if (name === imageFile(g) || name === logFile(g)) continue
      if (name === 'blobs') {
        for (const prefix of await this.storage.list(`${this.folder}/blobs`)) {
          for (const blob of await this.storage.list(`${this.folder}/blobs/${prefix}`)) {
            if (!keepBlobs.has(`blobs/${prefix}/${blob}`)) await this.storage.remove(`${this.folder}/blobs/${prefix}/${blob}`)
          }
        }
        continue
      }
      await this.storage.remove(`${this.folder}/${name}`)
    }
  }
}

/**
 * What is wrong with a manifest's fields, beyond its checksum (which an archive's maker can make
 * match): the importer writes it as the vault's commit point, so a field no labvault writes is
 * refused here. A negative `baseSeq`, for one, imported and opened, and then every write after the
 * import was acknowledged and silently gone at the next open (its log records were taken for ones
 * the image already held).
 */
function manifestProblem(m: Manifest): string | undefined {
  if (!Number.isSafeInteger(m.baseSeq) || m.baseSeq < 0) return `baseSeq ${JSON.stringify(m.baseSeq)} is not a sequence number`
  if (!Number.isSafeInteger(m.imageSize) || m.imageSize < 0) return `imageSize ${JSON.stringify(m.imageSize)} is not a byte count`
  if (!Number.isInteger(m.imageCrc) || m.imageCrc < 0 || m.imageCrc > 0xffffffff) return `imageCrc ${JSON.stringify(m.imageCrc)} is not a CRC-32`
  if (!Number.isInteger(m.formatVersion) || m.formatVersion < 1) return `formatVersion ${JSON.stringify(m.formatVersion)} is not a version`
  for (const k of ['author', 'description', 'createdAt'] as const) if (typeof m[k] !== 'string') return `${k} is ${typeof m[k]}, not a string`
  if (Number.isNaN(Date.parse(m.createdAt))) return `createdAt ${JSON.stringify(m.createdAt.slice(0, 40))} is not a date`
  return undefined
}

/** A zip's end-of-central-directory record: 22 bytes, then a comment of up to 65 535 bytes. */
const EOCD_BYTES = 22
const TAIL_BYTES = EOCD_BYTES + 0xffff

/**
 * The entry count of the end-of-central-directory record that ends `tail` (its signature, and a
 * comment length that reaches exactly the end), or undefined when there is none.
 */
function endOfCentralDirectory(tail: Uint8Array): number | undefined {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
  for (let at = tail.length - EOCD_BYTES; at >= 0; at--) {
    if (view.getUint32(at, true) !== 0x06054b50) continue
    if (at + EOCD_BYTES + view.getUint16(at + 20, true) !== tail.length) continue
    return view.getUint16(at + 10, true)
  }
  return undefined
}
