import { CorruptionError, NotFoundError } from '../errors/errors.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { BLOB_FOLDER } from './format.js'

/**
 * Content-addressed files for bulk bytes (large values, file items, artifacts, array segments).
 * They live beside the SQLite image, not inside it, so the image that sql.js keeps in wasm memory
 * (and exports at every checkpoint) stays small. A blob is named by the SHA-256 of its bytes,
 * written and synced before the commit that references it, and removed by {@link collect} once no
 * row refers to it.
 */
/**
 * Pins visible to other processes sharing the vault's files (Node: src/sharing/node/node-blob-pins.ts).
 * Without one, pins live in this engine's memory only, which is enough where a single engine
 * touches the files (a browser's leader tab, an unshared vault).
 */
export interface BlobPinBoard {
  /** Record that this process is about to refer to `hash`; returns a token for {@link unpin}. */
  pin(hash: string): string
  unpin(token: string): void
  /** Hashes pinned by processes that are (or may be) alive, this one included. */
  pinnedElsewhere(): Set<string>
  /**
   * Delete blob `hash` unless a pin for it appears while deleting (a writer that found the file
   * and will refer to it). True when it was deleted.
   */
  removeUnlessPinned(hash: string): boolean
}

export class BlobStore {
  /**
   * Blobs written but not yet known to be referenced, with a count. A blob is written before the
   * commit that refers to it, so a checkpoint in between would see it unreferenced: collection
   * spares pinned blobs. Callers `unpin` once their write settled (committed or failed).
   */
  private readonly pinned = new Map<string, number>()
  /** Tokens of this store's pins on the shared board, by hash. */
  private readonly boardTokens = new Map<string, string[]>()
  /** Blobs whose bytes this store has seen hash to their name (see {@link getRange}). */
  private readonly verified = new Set<string>()
  /** Bytes of all stored blobs, once counted (kept current by put and collect); see {@link totalBytes}. */
  private total: number | undefined

  constructor(
    private readonly storage: StorageAdapter,
    private readonly folder: string,
    private readonly board?: BlobPinBoard,
  ) {}

  /** The hex SHA-256 of `bytes`. */
  static async hash(bytes: Uint8Array): Promise<string> {
    const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
  }

  private path(hash: string): string {
    return `${this.folder}/${BLOB_FOLDER}/${hash.slice(0, 2)}/${hash}`
  }

  /**
   * Store bytes durably (a no-op when the same content is already stored); returns the hash. The
   * blob stays pinned (safe from collection) until {@link unpin} is called for it. An existing file
   * of that name is trusted only when its bytes hash to its name; otherwise it is rewritten.
   * `hash`, when given, is {@link BlobStore.hash} of `bytes` as the caller just computed it (a
   * large blob is not hashed twice).
   */
  async put(bytes: Uint8Array, hash?: string): Promise<string> {
    hash ??= await BlobStore.hash(bytes)
    // Pinned before the file is looked at: a collector in another process that lists the blobs
    // after this point spares it, also when it already exists (unreferenced) and is reused here.
    this.hold(hash)
    const path = this.path(hash)
    let existing: number | undefined
    try {
      existing = await this.storage.size(path)
      if (existing === bytes.length) {
        const stored = await this.storage.read(path)
        if (stored && (await BlobStore.hash(stored)) === hash) return hash
      }
      await this.storage.write(path, bytes)
      await this.storage.sync(path)
      this.verified.add(hash)
      if (this.total !== undefined) this.total += bytes.length - (existing ?? 0)
      return hash
    } catch (err) {
      // A put that failed returns no hash to unpin later: its pin goes now.
      this.unpin(hash)
      if (existing === undefined) await this.dropFailed(hash, path)
      throw err
    }
  }

  /**
   * Remove the file of a put that failed, as collection would at the next checkpoint (no row refers
   * to it), unless someone pinned it meanwhile. Not only tidiness: an adapter that buffers writes
   * (IndexedDB) keeps the bytes that did not land and tries them again at every later write-back and
   * at close, so after a write past the quota `close()` rejected with QuotaExceededError although every
   * acknowledged write was durable. Best effort: a removal that fails leaves the file to collection.
   */
  private async dropFailed(hash: string, path: string): Promise<void> {
    if (this.pinned.has(hash)) return
    try {
      if (this.board) this.board.removeUnlessPinned(hash)
      else await this.storage.remove(path)
    } catch {
      // left to the next collection
    }
  }

  /**
   * Pin a blob without writing it (an export reading it while writes go on): collection, here and
   * in processes sharing the files, spares it until {@link unpin}.
   */
  hold(hash: string): void {
    if (this.board) {
      const token = this.board.pin(hash)
      const tokens = this.boardTokens.get(hash)
      if (tokens) tokens.push(token)
      else this.boardTokens.set(hash, [token])
    }
    this.pinned.set(hash, (this.pinned.get(hash) ?? 0) + 1)
  }

  /** The storage path of a blob's file (an export reads it by range, unverified: the importer checks it). */
  pathOf(hash: string): string {
    return this.path(hash)
  }

  /** Release one pin taken by {@link put} or {@link hold}: call it after the write that refers to the blob settled. */
  unpin(hash: string): void {
    const n = (this.pinned.get(hash) ?? 0) - 1
    if (n > 0) this.pinned.set(hash, n)
    else this.pinned.delete(hash)
    const tokens = this.boardTokens.get(hash)
    const token = tokens?.pop()
    if (tokens && tokens.length === 0) this.boardTokens.delete(hash)
    if (token !== undefined) this.board!.unpin(token)
  }

  /**
   * The bytes of a blob, verified: CorruptionError when it is missing or its bytes do not hash to
   * its name (a flipped byte, a truncated or zero-filled file), never different bytes.
   */
  async get(hash: string): Promise<Uint8Array> {
    // Pinned from the call (made in the tick its row was read) until read: a checkpoint meanwhile,
    // after a later write dropped the row, must not collect it under the read.
    this.hold(hash)
    try {
      const bytes = await this.storage.read(this.path(hash))
      if (!bytes) throw new CorruptionError(`blob ${hash} is missing`)
      if ((await BlobStore.hash(bytes)) !== hash) {
        this.verified.delete(hash)
        throw new CorruptionError(`blob ${hash} does not match its hash (${bytes.length} bytes on disk): the file was damaged`)
      }
      this.verified.add(hash)
      return bytes
    } finally {
      this.unpin(hash)
    }
  }

  /**
   * The size in bytes of a blob's file, without reading it (a listing that needs no bytes: a
   * 1 GB value is not read, nor downloaded from a static host, to say how large it is). Not
   * verified: a damaged file's size is what it is on disk. CorruptionError when it is missing.
   */
  async size(hash: string): Promise<number> {
    const size = await this.storage.size(this.path(hash))
    if (size === undefined) throw new CorruptionError(`blob ${hash} is missing`)
    return size
  }

  /**
   * Run `load`, which reads the blobs `hashes` (named by rows just read), with them pinned until
   * it settles: a reader that loads several blobs one after another pins them all at once, in the
   * tick it read their rows, so that a checkpoint while it loads collects none of them.
   */
  async reading<T>(hashes: Iterable<string>, load: () => Promise<T>): Promise<T> {
    const held = [...new Set(hashes)]
    for (const hash of held) this.hold(hash)
    try {
      return await load()
    } finally {
      for (const hash of held) this.unpin(hash)
    }
  }

  /**
   * Bytes `[offset, offset+length)` of a blob. The whole blob is verified the first time this store
   * reads from it (a part cannot be checked against the hash of the whole); later ranges of a blob
   * already verified in this session are read directly.
   */
  async getRange(hash: string, offset: number, length: number): Promise<Uint8Array> {
    // Pinned while it reads (see get).
    return this.reading([hash], () => this.readRange(hash, offset, length))
  }

  private async readRange(hash: string, offset: number, length: number): Promise<Uint8Array> {
    if (!this.verified.has(hash)) {
      const bytes = await this.get(hash)
      return bytes.slice(Math.min(offset, bytes.length), Math.min(bytes.length, offset + length))
    }
    const out = await this.storage.readRange(this.path(hash), offset, length).catch((err: unknown) => {
      // Only a missing file is damage; a host that fails or times out (a NetworkError from a static
      // host) is reported as it is, so a caller can tell a passing outage from a damaged vault.
      if (err instanceof NotFoundError || (err as { code?: unknown })?.code === 'NOT_FOUND') throw new CorruptionError(`blob ${hash} is missing`, { cause: err })
      throw err
    })
    if (out.length < length) {
      // Shorter than the hashed bytes it was when verified: damaged since.
      this.verified.delete(hash)
      return this.readRange(hash, offset, length)
    }
    return out
  }

  /**
   * Bytes of all stored blobs. Counted by listing the folder the first time (and after
   * {@link forgetTotal}), then kept current by this store's own puts and removals. Storage that
   * cannot list counts the blobs `live` returns (those the vault's rows refer to) instead.
   */
  async totalBytes(live?: () => Set<string>): Promise<number> {
    if (this.total === undefined && this.storage.listable === false) {
      // Storage that cannot list (static HTTP hosting) is read-only: the blobs the rows refer to
      // are all there is, and their sizes never change. A few at a time: each is a request.
      const hashes = [...(live?.() ?? [])]
      let total = 0
      for (let i = 0; i < hashes.length; i += 16) {
        const sizes = await Promise.all(hashes.slice(i, i + 16).map((h) => this.storage.size(this.path(h))))
        for (const size of sizes) total += size ?? 0
      }
      this.total = total
    }
    if (this.total === undefined) {
      let total = 0
      const root = `${this.folder}/${BLOB_FOLDER}`
      for (const prefix of await this.storage.list(root)) {
        for (const hash of await this.storage.list(`${root}/${prefix}`)) total += (await this.storage.size(`${root}/${prefix}/${hash}`)) ?? 0
      }
      this.total = total
    }
    return this.total
  }

  /** Someone else (another process) may have added or removed blobs: count again when asked. */
  forgetTotal(): void {
    this.total = undefined
  }

  /**
   * Delete every stored blob whose hash is not in the set `liveBlobs` gives. Returns how many were
   * removed. The set is asked for only when a blob is found: a vault with no blob files (most small
   * ones) runs none of the queries that make it, which in a new worker cost ~20-30 ms of an open
   * (SQLite's code for them running for the first time; docs/cold-start.md, "Ninth round").
   */
  async collect(liveBlobs: () => Set<string>): Promise<number> {
    let removed = 0
    let live: Set<string> | undefined
    // Listed before the folder is: a pin taken later is for a blob written (or reused) later.
    const elsewhere = this.board?.pinnedElsewhere() ?? new Set<string>()
    for (const prefix of await this.storage.list(`${this.folder}/${BLOB_FOLDER}`)) {
      for (const hash of await this.storage.list(`${this.folder}/${BLOB_FOLDER}/${prefix}`)) {
        live ??= liveBlobs()
        if (!live.has(hash) && !this.pinned.has(hash) && !elsewhere.has(hash)) {
          const size = (await this.storage.size(this.path(hash))) ?? 0
          if (this.board) {
            if (!this.board.removeUnlessPinned(hash)) continue
          } else {
            await this.storage.remove(this.path(hash))
          }
          this.verified.delete(hash)
          if (this.total !== undefined) this.total -= size
          removed++
        }
      }
    }
    return removed
  }
}
