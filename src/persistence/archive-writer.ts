import { concatBytes } from '../codec/bytes.js'
import { Zip, ZipDeflate } from 'fflate'
import { CorruptionError } from '../errors/errors.js'
import { ARCHIVE_HEADER, type ArchiveHeader } from './archive-format.js'

/** Where the writer reads the files its header lists from (a snapshot of a vault). */
export interface ArchiveSource {
  readonly header: ArchiveHeader
  /** Bytes `[offset, offset + length)` of `header.files[index]`. */
  read(index: number, offset: number, length: number): Promise<Uint8Array>
}

/** Bytes read from a file per step: bounds the memory of an export, whatever the vault's size. */
const READ_BYTES = 1024 * 1024
/** The writer hands out zip bytes in pieces of about this size (fewer round trips across a worker). */
const PIECE_BYTES = 1024 * 1024

/**
 * Writes a vault snapshot as a zip, a piece at a time ({@link next}): the header entry first, then
 * each file, each deflated at `level` (0: stored in deflate blocks). Memory stays at a few pieces:
 * files are read {@link READ_BYTES} at a time.
 */
export class ArchiveWriter {
  private readonly zip: Zip
  private readonly out: Uint8Array[] = []
  private outBytes = 0
  private failure: Error | undefined
  private ended = false
  private file = -1
  private offset = 0
  private entry: ZipDeflate | undefined
  /** Bytes of vault files read so far, and in all (for progress). */
  bytesRead = 0
  readonly totalBytes: number

  constructor(
    private readonly source: ArchiveSource,
    private readonly level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9,
  ) {
    this.totalBytes = source.header.files.reduce((n, f) => n + f.size, 0)
    this.zip = new Zip((err, data, final) => {
      if (err) this.failure = err
      else {
        if (data.length > 0) {
          this.out.push(data)
          this.outBytes += data.length
        }
        if (final) this.ended = true
      }
    })
    const header = new ZipDeflate(ARCHIVE_HEADER, { level: 6 })
    this.zip.add(header)
    header.push(new TextEncoder().encode(JSON.stringify(source.header, null, 1)), true)
  }

  /** The next piece of the zip, or undefined once it is complete. */
  async next(): Promise<Uint8Array | undefined> {
    const files = this.source.header.files
    while (this.outBytes < PIECE_BYTES && !this.ended) {
      if (this.failure) throw this.failure
      if (!this.entry) {
        this.file++
        if (this.file >= files.length) {
          this.zip.end()
          continue
        }
        this.entry = new ZipDeflate(files[this.file]!.path, { level: this.level })
        this.zip.add(this.entry)
        this.offset = 0
      }
      const f = files[this.file]!
      const want = Math.min(READ_BYTES, f.size - this.offset)
      const bytes = want > 0 ? await this.source.read(this.file, this.offset, want) : new Uint8Array(0)
      if (bytes.length !== want) throw new CorruptionError(`export: ${f.path} ended after ${this.offset + bytes.length} of ${f.size} bytes while it was read`)
      this.offset += want
      this.bytesRead += want
      const last = this.offset >= f.size
      this.entry.push(bytes, last)
      if (last) this.entry = undefined
    }
    if (this.failure) throw this.failure
    if (this.outBytes === 0) return undefined
    const piece = concatBytes(this.out, this.outBytes)
    this.out.length = 0
    this.outBytes = 0
    // A piece that owns its whole buffer can be moved across a worker instead of copied.
    return piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? piece : piece.slice()
  }
}
