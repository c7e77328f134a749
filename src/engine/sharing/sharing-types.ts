import type { BlobPinBoard } from '../../persistence/blob-store.js'
/**
 * What the engine needs from its environment to share one vault's files with other engines
 * (other Node processes). In a browser only the leader tab's engine touches the files, so there
 * the engine runs unshared and the other tabs forward their calls (src/sharing/tab-*.ts).
 */

/** The vault's write lock. */
export interface WriteLock {
  /** True while this engine holds it. */
  readonly held: boolean
  /** Take it, waiting at most `timeoutMs` (LockTimeoutError otherwise). */
  acquire(timeoutMs: number): Promise<void>
  /** Give it up. */
  release(): void
  /** True when others are waiting and this holder has had it long enough to let go at its next idle moment. */
  shouldYield(): boolean
  /** Give it up because others wait (the holder's next acquire defers a little). */
  yieldToWaiters(): void
  /** True when another process holds it to replace or remove the vault's files (importVault, deleteVault). */
  replacing?(): boolean
}

/** How the engine shares its files: `shared` takes the lock per burst of writes, `exclusive` for the whole session. */
export type SharingMode = 'shared' | 'exclusive'

/** The environment side of sharing (Node: lock file, stat probes, fs.watch). */
export interface SharingHost {
  /** Pins of blobs written but not yet committed, visible to the other processes' collectors. */
  readonly blobPins?: BlobPinBoard
  readonly mode: SharingMode
  readonly lock: WriteLock
  /** How long a lock wait may take before LockTimeoutError. */
  readonly lockTimeoutMs: number
  /**
   * A cheap fingerprint of the files another engine changes when it commits or checkpoints (sizes
   * and times of the manifest slots and the current log). Equal fingerprints: nothing new.
   */
  fingerprint(logPath: string): string
  /** Call `onChange` (soon, not necessarily at once) whenever the files may have changed. Returns stop. */
  watch(onChange: () => void): () => void
  /** Release the lock and every watcher. */
  close(): void
}
