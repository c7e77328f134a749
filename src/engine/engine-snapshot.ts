import { CorruptionError } from '../errors/errors.js'
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, sha256Hex, type ArchiveFile, type ArchiveHeader } from '../persistence/archive-format.js'
import type { BlobStore } from '../persistence/blob-store.js'
import { crc32 } from '../persistence/crc32.js'
import { BLOB_FOLDER, FORMAT_VERSION, MANIFEST_SLOTS, imageFile, logFile } from '../persistence/format.js'
import { encodeLogHeader } from '../persistence/log-format.js'
import { encodeManifest, type Manifest } from '../persistence/manifest.js'
import type { VaultFiles } from '../persistence/vault-files.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'

/**
 * A consistent view of a vault to export: the files of a vault folder holding exactly what was
 * committed when it was taken (one image, an empty log, both manifest slots, every blob a row
 * refers to). The vault goes on being written meanwhile; its referenced blobs stay pinned until
 * {@link release}, so no checkpoint (here or in another process) collects one being read.
 */
export interface VaultSnapshot {
  readonly header: ArchiveHeader
  /** Bytes `[offset, offset + length)` of `header.files[index]`. */
  read(index: number, offset: number, length: number): Promise<Uint8Array>
  /** Unpin the blobs (idempotent). */
  release(): void
}

/** The generation an exported folder carries (1, not 0: see docs/format.md, "Archive"). */
export const SNAPSHOT_GENERATION = 1

/** What {@link takeSnapshot} needs of an engine. */
export interface SnapshotParts {
  files: VaultFiles
  blobs: BlobStore
  storage: StorageAdapter
  /** The commit queue, exclusively: every earlier write committed, none runs until released. */
  exclusive(): Promise<() => void>
  /** Hashes of every blob a row refers to (what garbage collection keeps). */
  liveBlobs(): Set<string>
}

/**
 * Take a snapshot. The database image is exported and the referenced blobs pinned while the commit
 * queue is held (shared with other processes, that also means under the write lock and caught up),
 * which takes as long as sql.js's `export()`; the blobs are read later, outside it.
 */
export async function takeSnapshot(parts: SnapshotParts): Promise<VaultSnapshot> {
  const release = await parts.exclusive()
  let image: Uint8Array
  let live: string[]
  let current: Manifest
  let lastSeq: number
  try {
    image = parts.files.db.exportImage()
    current = parts.files.manifest
    lastSeq = parts.files.lastSeq
    live = [...parts.liveBlobs()].filter((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)).sort()
    for (const hash of live) parts.blobs.hold(hash)
  } finally {
    release()
  }
  let released = false
  const unpin = () => {
    if (released) return
    released = true
    for (const hash of live) parts.blobs.unpin(hash)
  }
  try {
    const g = SNAPSHOT_GENERATION
    const manifest: Manifest = { ...current, formatVersion: FORMAT_VERSION, generation: g, imageSize: image.length, imageCrc: crc32(image), baseSeq: lastSeq }
    const manifestBytes = encodeManifest(manifest)
    const log = encodeLogHeader(g)
    const inMemory = new Map<string, Uint8Array>([
      [imageFile(g), image],
      [logFile(g), log],
      [MANIFEST_SLOTS[g % 2], manifestBytes],
      [MANIFEST_SLOTS[(g + 1) % 2], manifestBytes],
    ])
    const files: ArchiveFile[] = []
    const paths: string[] = []
    for (const hash of live) {
      const path = parts.blobs.pathOf(hash)
      const size = await parts.storage.size(path)
      if (size === undefined) throw new CorruptionError(`export: blob ${hash} is referenced but missing; the vault is damaged (nothing was exported)`)
      files.push({ path: `${BLOB_FOLDER}/${hash.slice(0, 2)}/${hash}`, size, sha256: hash })
      paths.push(path)
    }
    // Order matters to an importer: blobs, then the image, the log, and the manifests last (the commit point).
    for (const [path, bytes] of inMemory) {
      files.push({ path, size: bytes.length, sha256: await sha256Hex(bytes) })
      paths.push('')
    }
    const header: ArchiveHeader = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      exportedAt: new Date().toISOString(),
      vault: { name: current.name, author: current.author, description: current.description, createdAt: current.createdAt, formatVersion: FORMAT_VERSION, generation: g },
      files,
    }
    return {
      header,
      release: unpin,
      async read(index, offset, length) {
        const f = files[index]!
        const mem = inMemory.get(f.path)
        if (mem) return mem.slice(offset, offset + length)
        return parts.storage.readRange(paths[index]!, offset, length)
      },
    }
  } catch (err) {
    unpin()
    throw err
  }
}
