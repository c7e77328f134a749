import { concatBytes } from '../codec/bytes.js'
import { createSha256 } from '../codec/sha256.js'
import { Deflate } from 'fflate'
import { CorruptionError, UnsupportedError } from '../errors/errors.js'
import { ARCHIVE_HEADER, DEFAULT_MAX_COMPRESSION_RATIO, RATIO_SLACK_BYTES, sha256Hex, type ArchiveHeader } from './archive-format.js'
import { crc32 } from './crc32.js'

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
 * A file up to this size is read once and its entry (deflated, or stored at level 0) held in
 * memory until it is complete, so that its local header can carry its CRC and sizes; a larger one
 * is read twice instead (see {@link ArchiveWriter}). Bounds an export's memory to about this much.
 */
export const MEMORY_ENTRY_BYTES = 16 * 1024 * 1024

/** Zip record signatures and fields (APPNOTE.TXT 4.3); every integer little-endian. */
const LOCAL_HEADER = 0x04034b50
const CENTRAL_HEADER = 0x02014b50
const END_OF_CENTRAL_DIRECTORY = 0x06054b50
/** "Version needed to extract" 2.0: deflate. */
const ZIP_VERSION = 20
const STORED = 0
const DEFLATED = 8
/** No zip64: sizes, offsets and the entry count must fit these. */
const MAX_32 = 0xffffffff
const MAX_ENTRIES = 0xffff

/** What the central directory repeats of each entry. */
interface EntryRecord {
  name: Uint8Array
  method: number
  crc: number
  packed: number
  size: number
  offset: number
}

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9

/**
 * Whether `raw` bytes of an entry, deflated so far to `packed`, inflate so steeply that importVault
 * with its default limits would refuse them as a zip bomb (archive-reader.ts): a vault holding 48 MB
 * of zeros exported an archive it could not import. Such an entry is stored instead. The reader
 * judges the ratio as the bytes inflate, so this is asked after every piece, with a margin of two
 * (half the slack, half the ratio): between two checks one more piece ({@link READ_BYTES}) may
 * inflate, which then stays under 4/3 of half the ratio.
 */
function tooCompressible(raw: number, packed: number): boolean {
  return raw > RATIO_SLACK_BYTES / 2 && raw > (DEFAULT_MAX_COMPRESSION_RATIO / 2) * packed
}

/** An entry's deflate that also watches, piece by piece, whether it is {@link tooCompressible}. */
interface WatchedDeflate {
  push(bytes: Uint8Array): void
  end(): void
  /** Deflated bytes so far. */
  readonly packed: number
  /** Whether the bytes deflated so far were too compressible at any point (then store the entry). */
  readonly steep: boolean
}

function watchedDeflate(level: Level, onData: (data: Uint8Array) => void): WatchedDeflate {
  let raw = 0
  let packed = 0
  let steep = false
  const deflate = new Deflate({ level }, (data) => {
    packed += data.length
    onData(data)
  })
  return {
    push(bytes) {
      raw += bytes.length
      deflate.push(bytes, false)
      steep ||= tooCompressible(raw, packed)
    },
    end() {
      deflate.push(new Uint8Array(0), true)
      steep ||= tooCompressible(raw, packed)
    },
    get packed() {
      return packed
    },
    get steep() {
      return steep
    },
  }
}

/**
 * Writes a vault snapshot as a zip, a piece at a time ({@link next}): the header entry first, then
 * each file, deflated at `level` (level 0: stored, method 0).
 *
 * Every local header carries the entry's real CRC-32 and sizes, and no entry has a data descriptor
 * (general-purpose flag bit 3). Why: a streaming reader (fflate's Unzip, importVault's) can only
 * find the end of an entry whose header says "sizes follow the data" by scanning its compressed
 * bytes for the next PK signature; deflate copies incompressible bytes verbatim, so a value holding
 * `PK\x03\x04`, `PK\x07\x08` or `PK\x01\x02` (a zip stored as a value; ~1 random GB in 2) cut its
 * entry short and the export did not import. Sizes in the header end an entry exactly.
 *
 * Knowing them before the entry's bytes go out without holding a whole file in memory:
 * - a file up to {@link MEMORY_ENTRY_BYTES} is read once, its deflated bytes kept until the end
 *   (memory: at most that much, whatever the vault's size);
 * - a larger one is read twice (the snapshot's files do not change: the image is the snapshot's
 *   copy, blobs are immutable and pinned): a first pass computes its CRC (and, when deflating, the
 *   size of its deflated bytes, which are dropped), the second writes it, deflated again the same
 *   way (fflate's deflate is deterministic for the same input in the same pieces) and checked
 *   against the first. Deflating twice costs CPU, but keeps `level`'s meaning for large images;
 *   storing instead would have made every large file's entry its full size.
 */
export class ArchiveWriter {
  private readonly pieces: AsyncGenerator<Uint8Array, void>
  /** Bytes of vault files read so far, and in all (for progress; a file read twice counts twice). */
  bytesRead = 0
  readonly totalBytes: number

  constructor(
    private readonly source: ArchiveSource,
    private readonly level: Level,
  ) {
    this.totalBytes = source.header.files.reduce((n, f) => n + (f.size > MEMORY_ENTRY_BYTES ? 2 * f.size : f.size), 0)
    this.pieces = this.zip()
  }

  /** The next piece of the zip, or undefined once it is complete. */
  async next(): Promise<Uint8Array | undefined> {
    const out: Uint8Array[] = []
    let outBytes = 0
    while (outBytes < PIECE_BYTES) {
      const r = await this.pieces.next()
      if (r.done) break
      out.push(r.value)
      outBytes += r.value.length
    }
    if (outBytes === 0) return undefined
    const piece = out.length === 1 ? out[0]! : concatBytes(out, outBytes)
    // A piece that owns its whole buffer can be moved across a worker instead of copied.
    return piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? piece : piece.slice()
  }

  /** The zip's bytes, in order, produced as they are pulled. */
  private async *zip(): AsyncGenerator<Uint8Array, void> {
    const { header } = this.source
    if (header.files.length + 1 > MAX_ENTRIES) throw new UnsupportedError(`export: ${header.files.length + 1} entries is more than a zip without zip64 holds (${MAX_ENTRIES})`)
    const time = dosTime(new Date(header.exportedAt))
    const records: EntryRecord[] = []
    let offset = 0
    const local = (r: Omit<EntryRecord, 'offset'>): Uint8Array => {
      if (offset > MAX_32) throw new UnsupportedError('export: the archive passes 4 GiB, more than a zip without zip64 holds')
      records.push({ ...r, offset })
      const bytes = localHeader(r, time)
      offset += bytes.length + r.packed
      return bytes
    }

    // The header entry: small, deflated in memory.
    const json = new TextEncoder().encode(JSON.stringify(header, null, 1))
    const packed = deflateAll([json], 6)
    yield local({ name: encodeName(ARCHIVE_HEADER), method: DEFLATED, crc: crc32(json), packed: sum(packed), size: json.length })
    yield* packed

    for (let index = 0; index < header.files.length; index++) {
      const f = header.files[index]!
      if (f.size > MAX_32) throw new UnsupportedError(`export: ${f.path} is ${f.size} bytes, more than a zip without zip64 holds (4 GiB)`)
      const name = encodeName(f.path)
      let method = this.level === 0 ? STORED : DEFLATED
      if (f.size <= MEMORY_ENTRY_BYTES) {
        let crc = 0
        let parts: Uint8Array[] = []
        // The file's own bytes too (stored, they are the parts): checked against the header's SHA-256.
        const raw: Uint8Array[] = []
        const deflate = method === DEFLATED ? watchedDeflate(this.level, (data) => void parts.push(data)) : undefined
        for await (const bytes of this.read(index)) {
          crc = crc32(bytes, crc)
          raw.push(bytes)
          if (deflate) deflate.push(bytes)
          else parts.push(bytes)
        }
        deflate?.end()
        // A blob damaged on disk (a flipped byte, a truncated file) went into the archive as it was,
        // and the export succeeded: only importing that archive, maybe long after, said it was
        // damaged. Said now, by the export, of the vault.
        if ((await sha256Hex(raw.length === 1 ? raw[0]! : concatBytes(raw, f.size))) !== f.sha256) throw damaged(f.path)
        if (deflate?.steep) {
          // Stored instead (see tooCompressible).
          method = STORED
          parts = raw
        }
        yield local({ name, method, crc, packed: sum(parts), size: f.size })
        yield* parts
        continue
      }
      // Too large to hold: a first pass for the CRC, the deflated size and the SHA-256, then the entry.
      let crc = 0
      const measure = method === DEFLATED ? watchedDeflate(this.level, () => {}) : undefined
      // Hashed a piece at a time (WebCrypto's digest wants the whole file, which is what this path
      // must not hold), so a damaged large blob stops the export as a small one does, before its
      // entry goes out. The second pass is tied to this one by its CRC and size.
      const hash = createSha256()
      for await (const bytes of this.read(index)) {
        crc = crc32(bytes, crc)
        hash.update(bytes)
        measure?.push(bytes)
      }
      measure?.end()
      if (hash.hex() !== f.sha256) throw damaged(f.path)
      // Stored instead (see tooCompressible): the second pass copies the bytes as they are.
      if (measure?.steep) method = STORED
      const packed = method === STORED ? f.size : measure!.packed
      if (packed > MAX_32) throw new UnsupportedError(`export: ${f.path} deflates to ${packed} bytes, more than a zip without zip64 holds (4 GiB)`)
      yield local({ name, method, crc, packed, size: f.size })
      let crcAgain = 0
      let packedAgain = 0
      const out: Uint8Array[] = []
      const deflate =
        method === DEFLATED
          ? new Deflate({ level: this.level }, (data) => {
              out.push(data)
              packedAgain += data.length
            })
          : undefined
      for await (const bytes of this.read(index)) {
        crcAgain = crc32(bytes, crcAgain)
        if (deflate) deflate.push(bytes, false)
        else {
          out.push(bytes)
          packedAgain += bytes.length
        }
        yield* out.splice(0)
      }
      deflate?.push(new Uint8Array(0), true)
      yield* out.splice(0)
      // The header already went out: bytes that differ now would make an archive that does not import.
      if (crcAgain !== crc || packedAgain !== packed) throw new CorruptionError(`export: ${f.path} changed between its two reads; the archive is not valid`)
    }

    // The central directory and its end record (a zip tool, and importVault's truncation check, read these).
    const start = offset
    const central = records.map((r) => centralHeader(r, time))
    const size = sum(central)
    if (start + size > MAX_32) throw new UnsupportedError('export: the archive passes 4 GiB, more than a zip without zip64 holds')
    yield* central
    const end = new Uint8Array(22)
    const view = new DataView(end.buffer)
    view.setUint32(0, END_OF_CENTRAL_DIRECTORY, true)
    view.setUint16(8, records.length, true)
    view.setUint16(10, records.length, true)
    view.setUint32(12, size, true)
    view.setUint32(16, start, true)
    yield end
  }

  /** File `index` of the snapshot, {@link READ_BYTES} at a time. */
  private async *read(index: number): AsyncGenerator<Uint8Array, void> {
    const f = this.source.header.files[index]!
    for (let at = 0; at < f.size; ) {
      const want = Math.min(READ_BYTES, f.size - at)
      const bytes = await this.source.read(index, at, want)
      if (bytes.length !== want) throw new CorruptionError(`export: ${f.path} ended after ${at + bytes.length} of ${f.size} bytes while it was read`)
      at += want
      this.bytesRead += want
      yield bytes
    }
  }
}

/** A vault file whose bytes do not hash to the header's SHA-256 (for a blob: its name). */
function damaged(path: string): CorruptionError {
  return new CorruptionError(`export: ${path} does not hash to its checksum: the vault's file is damaged (its reads fail too); the archive would not import, so the export stops`)
}

/** All of `parts` deflated at `level`, in memory. */
function deflateAll(parts: Uint8Array[], level: Level): Uint8Array[] {
  const out: Uint8Array[] = []
  const deflate = new Deflate({ level }, (data) => void out.push(data))
  for (const p of parts) deflate.push(p, false)
  deflate.push(new Uint8Array(0), true)
  return out
}

function sum(parts: Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, 0)
}

/** Entry names are ASCII (archive-format.ts allows nothing else), so no UTF-8 flag is needed. */
function encodeName(name: string): Uint8Array {
  return new TextEncoder().encode(name)
}

/** MS-DOS date and time (local time, 2-second steps), as zip headers keep them; 1980 at the earliest. */
function dosTime(d: Date): { time: number; date: number } {
  if (!(d.getFullYear() >= 1980)) return { time: 0, date: (1 << 5) | 1 }
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: (Math.min(d.getFullYear() - 1980, 127) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  }
}

/** The fields a local header and a central header share, from "version needed" to the name's length. */
function common(view: DataView, at: number, r: Omit<EntryRecord, 'offset'>, time: { time: number; date: number }): void {
  view.setUint16(at, ZIP_VERSION, true)
  view.setUint16(at + 2, 0, true) // flags: no data descriptor (bit 3), no encryption, ASCII name
  view.setUint16(at + 4, r.method, true)
  view.setUint16(at + 6, time.time, true)
  view.setUint16(at + 8, time.date, true)
  view.setUint32(at + 10, r.crc, true)
  view.setUint32(at + 14, r.packed, true)
  view.setUint32(at + 18, r.size, true)
  view.setUint16(at + 22, r.name.length, true)
  view.setUint16(at + 24, 0, true) // no extra field
}

function localHeader(r: Omit<EntryRecord, 'offset'>, time: { time: number; date: number }): Uint8Array {
  const bytes = new Uint8Array(30 + r.name.length)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, LOCAL_HEADER, true)
  common(view, 4, r, time)
  bytes.set(r.name, 30)
  return bytes
}

function centralHeader(r: EntryRecord, time: { time: number; date: number }): Uint8Array {
  const bytes = new Uint8Array(46 + r.name.length)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, CENTRAL_HEADER, true)
  view.setUint16(4, ZIP_VERSION, true) // made by: MS-DOS attributes, version 2.0
  common(view, 6, r, time)
  // comment length, disk number, internal and external attributes: all 0
  view.setUint32(42, r.offset, true)
  bytes.set(r.name, 46)
  return bytes
}
