import type { WriteGate } from '../commit-queue.js'
import type { VaultFiles } from '../../persistence/vault-files.js'
import { catchUp, type CatchUpResult } from './catch-up.js'
import type { SharingHost } from './sharing-types.js'

/**
 * The engine's side of sharing a vault's files with other engines (Node processes):
 * - as the CommitQueue's {@link WriteGate}: before a burst of writes, take the write lock and catch
 *   up (apply records past `logEnd`; adopt a newer generation); hold the lock while the queue is
 *   busy; give it up as soon as the queue goes idle (at the end of the commit itself, not at a
 *   later turn of the event loop, which a process computing synchronously would not reach);
 * - before a read: when the files' fingerprint changed, catch up (no lock: a read sees every commit
 *   acknowledged before it started);
 * - a watcher (while anyone listens) that catches up when the files change, so change
 *   notifications and paused processes hear of other processes' commits without being asked.
 */
export class EngineSharing implements WriteGate {
  private print = ''
  private running: Promise<unknown> | undefined
  private unwatch: (() => void) | undefined
  private watchers = 0
  private closed = false

  constructor(
    readonly host: SharingHost,
    private readonly files: VaultFiles,
    /** Report what a catch-up applied (change notifications). */
    private readonly onCaughtUp: (result: CatchUpResult) => void,
    /** True when the engine is in a state where a reader catch-up is allowed (no SQL transaction open). */
    private readonly mayReplay: () => boolean,
  ) {}

  /** The lock is held (and, by construction, the database is caught up). */
  get held(): boolean {
    return this.host.lock.held
  }

  /** Take the lock and catch up. */
  async acquire(timeoutMs = this.host.lockTimeoutMs): Promise<void> {
    // A creation of this engine's open still being written holds the lock until its files are durable.
    await this.files.whenDurable()
    try {
      await this.host.lock.acquire(timeoutMs)
    } catch (err) {
      // The lock's file cannot be made when another program deleted the vault's folder: a write
      // then fails as a read does, with the ConflictError that says so (catch-up finds it).
      if (!this.closed) await catchUp(this.files, false)
      throw err
    }
    try {
      await this.catchUpNow(true)
    } catch (err) {
      this.host.lock.release()
      throw err
    }
  }

  /**
   * The queue went idle (its last commit is durable): let the lock go now, synchronously, before
   * the callers' continuations run. A caller that computes synchronously after its write (a
   * training step) never reaches another turn of the event loop, so a release deferred to one
   * would hold every other process's writers for as long as it computes. Group commit is kept:
   * writes issued while a batch is appended join the next batch under the same lock. The cost is
   * one lock round trip (create + unlink, ~0.05 ms) per burst of writes.
   */
  release(stillIdle: () => boolean): void {
    if (this.host.mode === 'exclusive' || !this.host.lock.held) return
    if (this.host.lock.shouldYield()) {
      this.host.lock.yieldToWaiters()
      return
    }
    if (stillIdle()) this.host.lock.release()
  }

  /** Before a read: apply what others committed since the last look. */
  async refresh(): Promise<void> {
    // A failed creation: the files are an abandoned creation, the vault lives in memory only.
    if (this.current || this.files.creationFailed) return
    await this.catchUpNow(false)
  }

  /** A read may run now, without {@link refresh}: nothing to catch up with (checked synchronously). */
  get current(): boolean {
    if (this.closed || this.host.lock.held) return true
    return this.host.fingerprint(this.files.logPath) === this.print && !this.running
  }

  /** Start watching the files (counted; {@link unwatchFiles} undoes one call). */
  watchFiles(): void {
    if (this.watchers++ > 0 || this.closed) return
    let pending = false
    this.unwatch = this.host.watch(() => {
      if (pending) return
      pending = true
      setTimeout(() => {
        pending = false
        this.refresh().catch(() => {})
      }, 0)
    })
  }

  unwatchFiles(): void {
    if (this.watchers === 0 || --this.watchers > 0) return
    this.unwatch?.()
    this.unwatch = undefined
  }

  private async catchUpNow(writer: boolean): Promise<void> {
    while (this.running) await this.running.catch(() => {})
    if (!writer && (this.host.lock.held || !this.mayReplay())) return
    const job = (async () => {
      const print = this.host.fingerprint(this.files.logPath)
      const result = await catchUp(this.files, writer)
      // The fingerprint from before reading: anything that changed since shows as a difference later.
      this.print = print
      if (result.records > 0 || result.reloaded) this.onCaughtUp(result)
    })()
    this.running = job
    try {
      await job
    } finally {
      if (this.running === job) this.running = undefined
    }
  }

  /** Our own append changed the files: remember it so the next read does not re-scan for nothing. */
  noteOwnCommit(): void {
    this.print = this.host.fingerprint(this.files.logPath)
  }

  close(): void {
    this.closed = true
    this.unwatch?.()
    this.unwatch = undefined
    this.host.close()
  }
}
