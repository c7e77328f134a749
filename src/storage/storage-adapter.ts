import { InvalidArgumentError } from '../errors/errors.js'

/**
 * The byte-level storage interface every backend implements (memory, node-fs, OPFS, IndexedDB, or a
 * user's own). The engine only ever speaks to storage through these few methods, so one conformance
 * suite (test/conformance/storage-conformance.ts) checks every adapter.
 *
 * Paths are relative, `/`-separated, without `.` or `..` segments (e.g. `lab/log-3.log`). A path
 * names a file; folders exist implicitly while they hold files and are listed with {@link list}.
 *
 * Durability contract: `write`, `append` and `truncate` may be buffered. After `sync(path)` resolves,
 * every earlier change to that file (and its existence) survives a crash or power loss. Changes that
 * were not synced may be lost, and the last of them may be torn (partly written). `remove` is durable
 * once it resolves, or at the latest after the next `sync` of any file in the same folder.
 */
export interface StorageAdapter {
  /** A short name for info() and error messages, e.g. `memory`, `fs`, `opfs`, `indexeddb`. */
  readonly kind: string
  /** Whole file content, or `undefined` when the file does not exist. */
  read(path: string): Promise<Uint8Array | undefined>
  /**
   * Bytes `[offset, offset + length)` of a file; shorter when the file ends first, empty past its end.
   * Rejects with NotFoundError when the file does not exist.
   */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>
  /** Create or replace a whole file. */
  write(path: string, data: Uint8Array): Promise<void>
  /** Append bytes at the end of a file (creating it when missing); resolves to the new size. */
  append(path: string, data: Uint8Array): Promise<number>
  /** Cut a file to `size` bytes (never grows it). Rejects with NotFoundError when missing. */
  truncate(path: string, size: number): Promise<void>
  /** File size in bytes, or `undefined` when the file does not exist. */
  size(path: string): Promise<number | undefined>
  /** Make every earlier change to this file durable. A no-op for a missing file. */
  sync(path: string): Promise<void>
  /** Delete a file, or a folder and everything below it. A missing path is not an error. */
  remove(path: string): Promise<void>
  /** Names (not paths) of the files and folders directly inside a folder; `''` is the root. Sorted. */
  list(folder: string): Promise<string[]>
  /**
   * Optional, default true. `false`: `list` is not available (a static HTTP host cannot list a
   * folder). Such storage is opened read-only, and the engine finds a vault's files from its
   * manifest instead of listing them (docs/http-storage.md).
   */
  readonly listable?: boolean
  /**
   * Optional: close whatever the adapter keeps open for files under `folder` (called when a vault
   * closes or fails to open). The adapter stays usable; a later call simply opens the file again.
   */
  release?(folder: string): Promise<void>
  /** Release handles. The adapter may not be used afterwards. */
  close(): Promise<void>
}

/** Split a path into its segments, rejecting anything that could escape the adapter's root. */
export function pathSegments(path: string): string[] {
  if (path === '') return []
  const parts = path.split('/')
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw new InvalidArgumentError(`invalid storage path: ${JSON.stringify(path)}`)
  }
  return parts
}
