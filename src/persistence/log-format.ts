import { CorruptionError } from '../errors/errors.js'
import { crc32 } from './crc32.js'
import { FORMAT_VERSION, LOG_HEADER_BYTES, LOG_MAGIC, MAX_RECORD_BYTES, RECORD_HEADER_BYTES } from './format.js'

const encoder = new TextEncoder()

/** The 16-byte header that starts every log file. */
export function encodeLogHeader(generation: number): Uint8Array {
  const out = new Uint8Array(LOG_HEADER_BYTES)
  out.set(encoder.encode(LOG_MAGIC), 0)
  const view = new DataView(out.buffer)
  view.setUint32(8, FORMAT_VERSION, true)
  view.setUint32(12, generation, true)
  return out
}

/**
 * Check a log header: the magic, a format version this build reads, and the generation the manifest
 * names (`expectedGeneration`). Throws CorruptionError when any of them is wrong.
 */
export function decodeLogHeader(bytes: Uint8Array, expectedGeneration: number): void {
  if (bytes.length < LOG_HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== LOG_MAGIC) {
    throw new CorruptionError('the vault log has no valid header')
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, LOG_HEADER_BYTES)
  const version = view.getUint32(8, true)
  if (version < 1 || version > FORMAT_VERSION) throw new CorruptionError(`the vault log header names format version ${version}`)
  const generation = view.getUint32(12, true)
  if (generation !== expectedGeneration) {
    throw new CorruptionError(`the vault log belongs to generation ${generation}, the manifest names ${expectedGeneration}`)
  }
}

/** Frame one record: header (length, crc32 over sequence + payload, sequence) then payload. */
export function encodeRecord(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, payload.length, true)
  view.setUint32(8, seq % 0x1_0000_0000, true)
  view.setUint32(12, Math.floor(seq / 0x1_0000_0000), true)
  out.set(payload, RECORD_HEADER_BYTES)
  view.setUint32(4, crc32(out.subarray(8)), true)
  return out
}

/** One record read back from a log. */
export interface LogRecord {
  seq: number
  payload: Uint8Array
  /** Offset just past this record in the log file. */
  end: number
}

/** What scanning a log found: the valid records, where they end, and whether a bad tail followed. */
export interface LogScan {
  records: LogRecord[]
  /** Offset just past the last valid record (where the next append belongs). */
  validEnd: number
  /** Bytes after validEnd that did not form a valid record (a torn or corrupt tail). */
  droppedBytes: number
}

/**
 * Read records from `bytes` (the log from `baseOffset` on) whose sequence numbers continue from
 * `lastSeq`. Stops at the first record that is short, fails its checksum or breaks the sequence:
 * everything from there on is a torn tail and is reported, never applied.
 */
export function scanRecords(bytes: Uint8Array, baseOffset: number, lastSeq: number): LogScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: LogRecord[] = []
  let pos = 0
  let expected = lastSeq + 1
  while (pos + RECORD_HEADER_BYTES <= bytes.length) {
    const length = view.getUint32(pos, true)
    if (length > MAX_RECORD_BYTES || pos + RECORD_HEADER_BYTES + length > bytes.length) break
    const seq = view.getUint32(pos + 8, true) + view.getUint32(pos + 12, true) * 0x1_0000_0000
    if (seq !== expected) break
    const sum = crc32(bytes.subarray(pos + 8, pos + RECORD_HEADER_BYTES + length))
    if (sum !== view.getUint32(pos + 4, true)) break
    const end = pos + RECORD_HEADER_BYTES + length
    records.push({ seq, payload: bytes.subarray(pos + RECORD_HEADER_BYTES, end), end: baseOffset + end })
    pos = end
    expected++
  }
  return { records, validEnd: baseOffset + pos, droppedBytes: bytes.length - pos }
}

/**
 * Whether a valid record with a sequence number above `lastSeq` starts anywhere in `bytes` after
 * `from`. A crash in strict mode can only tear the last record (each record is synced before the
 * next is appended), so a damaged record followed by a valid later one is corruption, not a torn
 * tail: dropping it would silently lose acknowledged commits.
 */
export function hasLaterRecord(bytes: Uint8Array, from: number, lastSeq: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let pos = from + 1; pos + RECORD_HEADER_BYTES <= bytes.length; pos++) {
    const seq = view.getUint32(pos + 8, true) + view.getUint32(pos + 12, true) * 0x1_0000_0000
    if (seq <= lastSeq || seq > lastSeq + 1_000_000_000) continue
    const length = view.getUint32(pos, true)
    if (pos + RECORD_HEADER_BYTES + length > bytes.length) continue
    if (crc32(bytes.subarray(pos + 8, pos + RECORD_HEADER_BYTES + length)) === view.getUint32(pos + 4, true)) return true
  }
  return false
}
