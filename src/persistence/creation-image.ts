import { crc32 } from './crc32.js'
import { CREATION_TEMPLATE } from './creation-template.js'
import type { StatementGroup } from '../sqlite/sqlite-database.js'
import { decodeStatements, encodeStatements } from './record-codec.js'

/**
 * The database a new vault starts with, made ahead (docs/cold-start.md, "Fifth round").
 *
 * A new vault's database is its creation record's statements (every domain's schema) run on an
 * empty database. In a fresh browser worker that was the slowest step of a first open (~55 ms:
 * SQLite's parser, code generator and b-tree code run for the first time, in wasm not yet
 * optimised), so the build runs the same statements once (`scripts/creation-template.ts`, through
 * the same {@link SqliteDatabase} code) and keeps the image they make in `creation-template.ts`.
 * A creation whose record is byte for byte the one the template was made from loads the image
 * instead of running the statements; any other record (other domains, a changed schema not yet
 * rebuilt) runs its statements as before. What is written (the log with the creation record, the
 * manifests) does not change, and neither does a reopen, which replays the record.
 * test/node/creation-template.test.ts checks that the kept image is exactly what the statements
 * build, so the two cannot drift apart.
 */
export interface CreationTemplate {
  /** crc32 of the creation record's payload (encodeStatements of the schema) it was made from. */
  recordCrc: number
  /** Length of that payload in bytes. */
  recordLength: number
  /** Length of the image in bytes. */
  imageLength: number
  /** The image, {@link packImage}d, in base64. */
  image: string
}

/** The image made ahead for a creation record's payload, or undefined when none was made for it. */
export function creationImageFor(recordPayload: Uint8Array, template: CreationTemplate = CREATION_TEMPLATE): Uint8Array | undefined {
  if (template.imageLength === 0 || recordPayload.length !== template.recordLength) return undefined
  if (crc32(recordPayload) !== template.recordCrc) return undefined
  return unpackImage(template.image, template.imageLength)
}

/**
 * The template's image for a creation record, and the groups of the record to replay on it: none
 * when the whole record is the template's, its last group when the record is the template's schema
 * followed by one group of the vault's own values (its id, src/engine/vault-identity.ts), which
 * differ per vault and so cannot be in the build's image. Undefined when neither matches.
 */
export function creationImageAndRest(recordPayload: Uint8Array, template: CreationTemplate = CREATION_TEMPLATE): { image: Uint8Array; rest: StatementGroup[] } | undefined {
  const whole = creationImageFor(recordPayload, template)
  if (whole) return { image: whole, rest: [] }
  // Cheap refusal before decoding: the schema alone is shorter than the record.
  if (template.imageLength === 0 || recordPayload.length <= template.recordLength) return undefined
  let groups: StatementGroup[]
  try {
    groups = decodeStatements(recordPayload)
  } catch {
    return undefined
  }
  if (groups.length < 2) return undefined
  const image = creationImageFor(encodeStatements(groups.slice(0, -1)), template)
  return image ? { image, rest: groups.slice(-1) } : undefined
}

/** A template of `image` for the record payload it was built from (the build's side). */
export function makeCreationTemplate(recordPayload: Uint8Array, image: Uint8Array): CreationTemplate {
  return { recordCrc: crc32(recordPayload), recordLength: recordPayload.length, imageLength: image.length, image: packImage(image) }
}

/** Runs of zeros shorter than this stay in the literal bytes (a run costs a few bytes of its own). */
const MIN_ZERO_RUN = 8

/**
 * An image with its runs of zeros left out (an empty database is ~1 MB, nearly all zeros: its
 * non-zero bytes are ~11 KB), in base64: segments of varint zeroRun, varint literalLength, literal.
 */
export function packImage(image: Uint8Array): string {
  const out: number[] = []
  let i = 0
  while (i < image.length) {
    let zeros = 0
    while (i + zeros < image.length && image[i + zeros] === 0) zeros++
    // A short run of zeros inside literal bytes is cheaper as literal bytes.
    if (zeros < MIN_ZERO_RUN && i + zeros < image.length) zeros = 0
    i += zeros
    let end = i
    while (end < image.length) {
      if (image[end] !== 0) {
        end++
        continue
      }
      let run = 0
      while (end + run < image.length && image[end + run] === 0 && run < MIN_ZERO_RUN) run++
      if (run >= MIN_ZERO_RUN || end + run === image.length) break
      end += run
    }
    varint(out, zeros)
    varint(out, end - i)
    for (let k = i; k < end; k++) out.push(image[k]!)
    i = end
  }
  let binary = ''
  for (const b of out) binary += String.fromCharCode(b)
  return btoa(binary)
}

/** The image {@link packImage} packed, `length` bytes. */
export function unpackImage(packed: string, length: number): Uint8Array {
  const binary = atob(packed)
  const image = new Uint8Array(length)
  let p = 0
  let at = 0
  const read = (): number => {
    let v = 0
    let shift = 0
    for (;;) {
      const b = binary.charCodeAt(p++)
      v += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return v
      shift += 7
    }
  }
  while (p < binary.length) {
    at += read()
    const n = read()
    for (let k = 0; k < n; k++) image[at++] = binary.charCodeAt(p++)
  }
  if (at > length) throw new Error(`creation template: ${at} bytes unpacked, ${length} expected`)
  return image
}

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
}
