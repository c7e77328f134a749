import { InvalidArgumentError, UnsupportedError } from '../errors/errors.js'
import { BLOB_FOLDER } from './format.js'

/**
 * The archive format of exportVault / importVault (docs/format.md, "Archive"): a zip whose first
 * entry is {@link ARCHIVE_HEADER} and whose other entries are the vault folder's own files under
 * their paths in the folder, so that unzipping an export gives a vault folder a static host can serve.
 */

/** Version of the archive format this build writes and the highest it reads. */
export const ARCHIVE_VERSION = 1
/** Name of the header entry, always first in the zip. */
export const ARCHIVE_HEADER = 'labvault-archive.json'
/** The `format` field of every header: tells an archive of labvault's from any other zip. */
export const ARCHIVE_FORMAT = 'labvault-archive'
/** The header entry itself may not be larger than this (it lists every file: ~120 bytes each). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024

/** importVault's default `maxCompressionRatio`: an entry inflating beyond it (past {@link RATIO_SLACK_BYTES}) is refused as a zip bomb. */
export const DEFAULT_MAX_COMPRESSION_RATIO = 250
/** Output allowed before the compression ratio is judged (small archives of zeros are fine). */
export const RATIO_SLACK_BYTES = 4 * 1024 * 1024

/** One file of the vault folder as the header lists it. */
export interface ArchiveFile {
  /** Path inside the vault folder (`image-1.sqlite`, `blobs/ab/ab12…`). */
  path: string
  /** Exact size in bytes. */
  size: number
  /** Hex SHA-256 of the bytes (for a blob, its name). */
  sha256: string
}

/** The header entry (`labvault-archive.json`). */
export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT
  /** {@link ARCHIVE_VERSION} of the build that wrote it. */
  version: number
  /** When the export was taken (ISO 8601). */
  exportedAt: string
  /** The exported vault: identity, on-disk format version and the generation its files carry. */
  vault: { name: string; author: string; description: string; createdAt: string; formatVersion: number; generation: number }
  /** Every other entry of the zip, in order. */
  files: ArchiveFile[]
}

const BLOB_PATH = new RegExp(`^${BLOB_FOLDER}/([0-9a-f]{2})/([0-9a-f]{64})$`)

/** What a vault-folder path of an archive is: a manifest slot, an image, a log or a blob. */
export type ArchiveFileKind = { kind: 'manifest'; slot: 0 | 1 } | { kind: 'image'; generation: number } | { kind: 'log'; generation: number } | { kind: 'blob'; hash: string }

/**
 * Classify an entry name, refusing anything that is not a vault file's path: only the exact names
 * of docs/format.md pass, so `../x`, `/etc/x`, `a\\b`, `blobs/../../x` and any other name are
 * refused whatever a zip tool would make of them.
 */
export function archiveFileKind(path: unknown): ArchiveFileKind {
  if (typeof path !== 'string') throw new InvalidArgumentError(`archive: an entry name is ${typeof path}, not a string`)
  if (path === 'manifest-0' || path === 'manifest-1') return { kind: 'manifest', slot: path === 'manifest-0' ? 0 : 1 }
  const image = /^image-(0|[1-9]\d{0,8})\.sqlite$/.exec(path)
  if (image) return { kind: 'image', generation: Number(image[1]) }
  const log = /^log-(0|[1-9]\d{0,8})\.log$/.exec(path)
  if (log) return { kind: 'log', generation: Number(log[1]) }
  const blob = BLOB_PATH.exec(path)
  if (blob && blob[2]!.startsWith(blob[1]!)) return { kind: 'blob', hash: blob[2]! }
  const why = path.includes('..') || path.startsWith('/') || path.includes('\\') || /^[a-zA-Z]:/.test(path) ? ' (a path that could leave the vault folder)' : ''
  throw new InvalidArgumentError(`archive: entry ${JSON.stringify(path.slice(0, 200))} is not a file of a vault folder${why}; nothing was written`)
}

/**
 * Parse and check the header entry: a labvault archive of a version this build reads, listing each
 * vault file once, with sizes and checksums, and exactly one generation's image, log and manifests.
 * Everything here is checked before anything is written.
 */
export function parseArchiveHeader(bytes: Uint8Array, readableFormatVersion: number): ArchiveHeader {
  let header: ArchiveHeader
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as ArchiveHeader
  } catch {
    throw new InvalidArgumentError(`archive: ${ARCHIVE_HEADER} is not valid JSON: this is not a labvault archive; nothing was written`)
  }
  if (header === null || typeof header !== 'object' || header.format !== ARCHIVE_FORMAT) {
    throw new InvalidArgumentError(`archive: ${ARCHIVE_HEADER} does not describe a labvault archive; nothing was written`)
  }
  if (!Number.isInteger(header.version) || header.version < 1) throw new InvalidArgumentError(`archive: header version ${JSON.stringify(header.version)} is not a version; nothing was written`)
  if (header.version > ARCHIVE_VERSION) {
    throw new UnsupportedError(`archive format version ${header.version} is newer than this labvault reads (up to ${ARCHIVE_VERSION}); upgrade labvault to import it. Nothing was written`)
  }
  const v = header.vault
  if (v === null || typeof v !== 'object' || !Number.isInteger(v.formatVersion) || !Number.isInteger(v.generation) || v.generation < 0) {
    throw new InvalidArgumentError('archive: the header does not describe the vault (formatVersion, generation); nothing was written')
  }
  if (v.formatVersion > readableFormatVersion) {
    throw new UnsupportedError(`archive holds a vault of format version ${v.formatVersion}; this labvault reads up to version ${readableFormatVersion}. Upgrade labvault to import it. Nothing was written`)
  }
  if (!Array.isArray(header.files)) throw new InvalidArgumentError('archive: the header lists no files; nothing was written')
  const seen = new Set<string>()
  let image = false
  let log = false
  let manifest = false
  for (const f of header.files) {
    if (f === null || typeof f !== 'object') throw new InvalidArgumentError('archive: a file of the header is not an object; nothing was written')
    const kind = archiveFileKind(f.path)
    if (seen.has(f.path)) throw new InvalidArgumentError(`archive: ${JSON.stringify(f.path)} is listed twice; nothing was written`)
    seen.add(f.path)
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw new InvalidArgumentError(`archive: ${f.path} has size ${JSON.stringify(f.size)}, not a byte count; nothing was written`)
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) throw new InvalidArgumentError(`archive: ${f.path} has no SHA-256; nothing was written`)
    if (kind.kind === 'blob' && kind.hash !== f.sha256) throw new InvalidArgumentError(`archive: blob ${f.path} declares another checksum than its name; nothing was written`)
    if ((kind.kind === 'image' || kind.kind === 'log') && kind.generation !== v.generation) {
      throw new InvalidArgumentError(`archive: ${f.path} is not of generation ${v.generation}, the one the header names; nothing was written`)
    }
    image ||= kind.kind === 'image'
    log ||= kind.kind === 'log'
    manifest ||= kind.kind === 'manifest'
  }
  if (!image || !log || !manifest) {
    throw new InvalidArgumentError(`archive: a vault needs a manifest, an image and a log; this archive lacks ${[!manifest && 'a manifest', !image && 'an image', !log && 'a log'].filter(Boolean).join(', ')}. Nothing was written`)
  }
  return header
}

/** Hex SHA-256 (WebCrypto: the same in a worker, a page and Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
  let out = ''
  for (const b of new Uint8Array(digest)) out += b.toString(16).padStart(2, '0')
  return out
}
