/**
 * Constants of the on-disk format (docs/format.md is the prose version; keep both true).
 */

/** The format version this build writes. A vault whose manifest names a higher one is refused. */
export const FORMAT_VERSION = 3

/** Magic bytes at the start of a manifest slot. */
export const MANIFEST_MAGIC = 'LABVMAN1'
/** Magic bytes at the start of a log file. */
export const LOG_MAGIC = 'LABVLOG1'
/** Bytes of the log file header: magic (8), format version (u32), generation (u32). */
export const LOG_HEADER_BYTES = 16
/** Bytes of a record header: payload length (u32), crc32 (u32), sequence number (u64 as two u32). */
export const RECORD_HEADER_BYTES = 16
/** Largest record payload we accept when reading (a larger length field is treated as torn). */
export const MAX_RECORD_BYTES = 1 << 30

/** The two manifest slots; generation g is written to slot g % 2, so a torn write spares the other. */
export const MANIFEST_SLOTS = ['manifest-0', 'manifest-1'] as const

/** File name of the image of generation `g`. */
export const imageFile = (g: number): string => `image-${g}.sqlite`
/** File name of the log of generation `g`. */
export const logFile = (g: number): string => `log-${g}.log`
/** Folder of content-addressed blobs, inside the vault folder. */
export const BLOB_FOLDER = 'blobs'
/** Whether a storage path (`<vault>/blobs/…`) is a blob's: content-addressed, so its bytes never change. */
export const isBlobPath = (path: string): boolean => path.split('/')[1] === BLOB_FOLDER
