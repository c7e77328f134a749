import type { MethodTable } from '../../../protocol/method-table.js'

/**
 * The archive domain's callable methods (exportVault's engine half): `begin` takes a snapshot,
 * `next` hands out the zip a piece at a time (pulled by the caller, so memory stays bounded on both
 * sides of a worker), `end` releases the snapshot. All reads: a read-only handle may export.
 */
export const archiveMethods = {
  archive: { begin: 'read', next: 'read', end: 'read' },
} as const satisfies Record<string, MethodTable>

/** What `archive.begin` answers. */
export interface ArchiveExportStart {
  /** Names the export in `next` and `end`. */
  id: string
  /** Bytes of the vault files the archive holds (before compression). */
  totalBytes: number
  /** Number of vault files (besides the header entry). */
  files: number
}

/** One piece of the zip from `archive.next`; `bytes` undefined once the zip is complete. */
export interface ArchiveExportPiece {
  bytes: Uint8Array | undefined
  /** Vault file bytes read so far (progress). */
  read: number
}

/** A deflate level: 0 stores, 1 is fastest, 9 smallest. */
export type ArchiveLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9
