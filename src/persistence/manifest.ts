import { CorruptionError, UnsupportedError } from '../errors/errors.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { crc32 } from './crc32.js'
import { FORMAT_VERSION, MANIFEST_MAGIC, MANIFEST_SLOTS } from './format.js'

/** What a manifest slot records: which image and log are current, and the vault's identity. */
export interface Manifest {
  formatVersion: number
  /** Increases by one at every checkpoint; names the image and log files. */
  generation: number
  /** Size and CRC-32 of the image file, checked on open (a flipped byte gives CorruptionError). */
  imageSize: number
  imageCrc: number
  /** Sequence number of the last record already folded into the image. */
  baseSeq: number
  name: string
  author: string
  description: string
  /** ISO 8601 creation time of the vault. */
  createdAt: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Bytes of one manifest slot: magic (8), JSON length (u32), crc32 of the JSON (u32), JSON. */
export function encodeManifest(m: Manifest): Uint8Array {
  const json = encoder.encode(JSON.stringify(m))
  const out = new Uint8Array(16 + json.length)
  out.set(encoder.encode(MANIFEST_MAGIC), 0)
  const view = new DataView(out.buffer)
  view.setUint32(8, json.length, true)
  view.setUint32(12, crc32(json), true)
  out.set(json, 16)
  return out
}

/** Parse a slot; undefined when it is missing, torn or fails its checksum. */
export function decodeManifest(bytes: Uint8Array | undefined): Manifest | undefined {
  if (!bytes || bytes.length < 16) return undefined
  if (decoder.decode(bytes.subarray(0, 8)) !== MANIFEST_MAGIC) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = view.getUint32(8, true)
  if (16 + length > bytes.length) return undefined
  const json = bytes.subarray(16, 16 + length)
  if (crc32(json) !== view.getUint32(12, true)) return undefined
  try {
    const m = JSON.parse(decoder.decode(json)) as Manifest
    return typeof m.generation === 'number' && typeof m.formatVersion === 'number' ? m : undefined
  } catch {
    return undefined
  }
}

/**
 * The valid manifest slots of the vault in `folder` (read side by side: over HTTP each read is a
 * round trip). Refuses a newer format without writing.
 */
export async function readManifestSlots(storage: StorageAdapter, folder: string): Promise<Manifest[]> {
  const read = await Promise.all(MANIFEST_SLOTS.map(async (slot) => decodeManifest(await storage.read(`${folder}/${slot}`))))
  const slots: Manifest[] = []
  for (const m of read) {
    // Either slot of a newer format means a newer labvault wrote here (both slots usually agree).
    if (m && m.formatVersion > FORMAT_VERSION) {
      throw new UnsupportedError(
        `vault "${m.name}" was written by format version ${m.formatVersion}; this labvault reads up to version ${FORMAT_VERSION}. Upgrade labvault to open it (its files were not changed).`,
      )
    }
    if (m) slots.push(m)
  }
  return slots
}

/**
 * The current manifest of the vault in `folder`: the valid slot with the highest generation.
 * `undefined` when neither slot holds a valid manifest. Refuses a newer format without writing.
 */
export async function readManifest(storage: StorageAdapter, folder: string): Promise<Manifest | undefined> {
  let best: Manifest | undefined
  for (const m of await readManifestSlots(storage, folder)) if (!best || m.generation > best.generation) best = m
  return best
}

/** Write the manifest of `m.generation` to its slot and make it durable. */
export async function writeManifest(storage: StorageAdapter, folder: string, m: Manifest): Promise<void> {
  await writeManifestSlot(storage, folder, m, m.generation % 2)
}

/**
 * Write a manifest to slot `slot` and make it durable. After a checkpoint has committed (its own
 * slot is durable) the other slot gets the same manifest, so that either slot alone names files
 * that exist (docs/format.md, "Manifest slots").
 */
export async function writeManifestSlot(storage: StorageAdapter, folder: string, m: Manifest, slot: number): Promise<void> {
  const path = `${folder}/${MANIFEST_SLOTS[slot]}`
  await storage.write(path, encodeManifest(m))
  await storage.sync(path)
}

/** Raise CorruptionError for a vault folder that has files but no readable manifest. */
export function missingManifest(folder: string, files: string[]): never {
  throw new CorruptionError(
    `vault folder "${folder}" holds ${files.length} file(s) (${files.slice(0, 5).join(', ')}) but no valid manifest; ` +
      `open it with { repair: true } to rebuild the manifest from the newest image and log`,
  )
}
