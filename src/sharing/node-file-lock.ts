import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { randomBytes } from 'node:crypto'
import { LockTimeoutError } from '../errors/errors.js'
import { storageError } from '../storage/node-fs-adapter.js'
import { processLiveness, selfIdentity, type ProcessIdentity } from './proc-identity.js'
import type { WriteLock } from './sharing-types.js'

/** What a lock file holds (JSON). Its mtime is the lease: the holder touches it every lease/3. */
interface LockContent extends ProcessIdentity {
  nonce: string
  /** ms since the epoch when it was taken (for error messages). */
  at: number
}

/** Options of {@link NodeFileLock}. */
export interface NodeFileLockOptions {
  /** A lock file older than this (by mtime) whose holder is not known to be alive may be broken. */
  leaseMs: number
  /** A holder that has held the lock this long gives it up at its next idle moment when others wait. */
  sliceMs?: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * The write lock of a vault shared by several Node processes: a lock file created with O_EXCL.
 * - lease: the holder refreshes the file's mtime every lease/3 while it holds it;
 * - a lock whose lease expired, or whose holder is certainly dead (same host and boot, and its pid
 *   is gone or now belongs to a process that started later: the start time from /proc/<pid>/stat
 *   is recorded with the pid), is broken; a holder that is alive is never broken, however late
 *   its lease (a long synchronous step may delay the refresh);
 * - breaking is serialised by a second lock file (`.break`), and the lock is re-read before it is
 *   removed, so two breakers can never remove a lock a third process has just taken;
 * - waiters poll (1 → 8 ms) and touch `.wait`; a holder that has held the lock for a slice while
 *   someone waits gives it up at its next idle moment (fairness).
 */
export class NodeFileLock implements WriteLock {
  private nonce: string | undefined
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private heldSince = 0
  private yieldedAt = 0
  private readonly breakPath: string
  private readonly waitPath: string

  constructor(
    readonly path: string,
    private readonly options: NodeFileLockOptions,
  ) {
    this.breakPath = `${path}.break`
    this.waitPath = `${path}.wait`
  }

  get held(): boolean {
    return this.nonce !== undefined
  }

  /** Take the lock, waiting at most `timeoutMs`; LockTimeoutError names the holder otherwise. */
  async acquire(timeoutMs: number): Promise<void> {
    if (this.held) return
    const deadline = Date.now() + timeoutMs
    // Just gave the lock up for a waiter: let it have it first.
    let delay = Date.now() - this.yieldedAt < 20 ? 2 : 0
    // Waiters wake on the lock file's removal (inotify & co.), and poll in case an event is missed.
    let wake: (() => void) | undefined
    let watcher: fs.FSWatcher | undefined
    try {
      for (;;) {
        if (delay > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, delay)
            function done() {
              clearTimeout(timer)
              wake = undefined
              resolve()
            }
            wake = done
          })
        }
        if (this.held) return
        if (this.tryCreate()) return
        this.breakIfStale()
        if (this.tryCreate()) return
        this.markWaiting()
        if (Date.now() >= deadline) {
          const holder = this.readLock()
          throw new LockTimeoutError(
            `the write lock of ${nodePath.dirname(this.path)} was not free within ${timeoutMs} ms` +
              (holder ? ` (held by pid ${holder.pid} on ${holder.host} since ${new Date(holder.at).toISOString()})` : ''),
          )
        }
        if (!watcher) {
          try {
            const name = nodePath.basename(this.path)
            watcher = fs.watch(nodePath.dirname(this.path), { persistent: false }, (_e, f) => {
              if (String(f) === name) wake?.()
            })
            watcher.on('error', () => {})
          } catch {
            watcher = undefined
          }
        }
        delay = Math.min(Math.max(1, delay * 2), watcher ? 20 : 8, Math.max(1, deadline - Date.now()))
      }
    } finally {
      watcher?.close()
    }
  }

  /** Give the lock up (only if it is still ours). */
  release(): void {
    const nonce = this.nonce
    if (!nonce) return
    this.nonce = undefined
    if (this.heartbeat) clearInterval(this.heartbeat)
    this.heartbeat = undefined
    if (this.readLock()?.nonce === nonce) {
      try {
        fs.unlinkSync(this.path)
      } catch {}
    }
  }

  /** True when others wait and this holder has had the lock for a slice: release at the next idle. */
  shouldYield(): boolean {
    if (!this.held || Date.now() - this.heldSince < (this.options.sliceMs ?? 50)) return false
    try {
      return Date.now() - fs.statSync(this.waitPath).mtimeMs < 50
    } catch {
      return false
    }
  }

  /** Release because others wait; the next acquire of this holder defers a little. */
  yieldToWaiters(): void {
    this.yieldedAt = Date.now()
    this.release()
  }

  private tryCreate(): boolean {
    const content: LockContent = { ...selfIdentity(), nonce: randomBytes(12).toString('hex'), at: Date.now() }
    let fd: number
    try {
      fd = fs.openSync(this.path, 'wx')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') return false
      if (code === 'ENOENT') {
        try {
          fs.mkdirSync(nodePath.dirname(this.path), { recursive: true })
        } catch (mkdirErr) {
          throw storageError(mkdirErr, 'create the vault folder', nodePath.dirname(this.path))
        }
        return this.tryCreate()
      }
      throw storageError(err, 'create the lock file', nodePath.dirname(this.path))
    }
    try {
      fs.writeSync(fd, JSON.stringify(content))
    } finally {
      fs.closeSync(fd)
    }
    this.nonce = content.nonce
    this.heldSince = Date.now()
    const every = Math.max(50, Math.floor(this.options.leaseMs / 3))
    this.heartbeat = setInterval(() => this.refresh(), every)
    this.heartbeat.unref?.()
    return true
  }

  /** Renew the lease; notice when the lock was taken from us (only possible across hosts). */
  private refresh(): void {
    if (!this.nonce) return
    if (this.readLock()?.nonce !== this.nonce) {
      this.nonce = undefined
      if (this.heartbeat) clearInterval(this.heartbeat)
      this.heartbeat = undefined
      return
    }
    const now = new Date()
    try {
      fs.utimesSync(this.path, now, now)
    } catch {}
  }

  private readLock(): LockContent | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.path, 'utf8')) as LockContent
    } catch {
      return undefined
    }
  }

  private markWaiting(): void {
    const now = new Date()
    try {
      fs.utimesSync(this.waitPath, now, now)
    } catch {
      try {
        fs.writeFileSync(this.waitPath, '')
      } catch {}
    }
  }

  /** Remove the lock file when its holder is dead (or its lease expired and it is not known alive). */
  private breakIfStale(): void {
    const seen = this.staleLock()
    if (!seen) return
    // One breaker at a time: a breaker that died leaves `.break` behind, which expires quickly.
    let fd: number
    try {
      fd = fs.openSync(this.breakPath, 'wx')
    } catch {
      try {
        if (Date.now() - fs.statSync(this.breakPath).mtimeMs > 1000) fs.unlinkSync(this.breakPath)
      } catch {}
      return
    }
    fs.closeSync(fd)
    try {
      // Re-check under the break lock: the same lock file, still stale.
      const again = this.staleLock()
      if (again && again.ino === seen.ino && again.nonce === seen.nonce) fs.unlinkSync(this.path)
    } catch {
    } finally {
      try {
        fs.unlinkSync(this.breakPath)
      } catch {}
    }
  }

  /** The current lock file if it may be broken, with its inode and nonce; undefined otherwise. */
  private staleLock(): { ino: number; nonce: string | undefined } | undefined {
    let stat: fs.Stats
    try {
      stat = fs.statSync(this.path)
    } catch {
      return undefined
    }
    const content = this.readLock()
    const expired = Date.now() - stat.mtimeMs > this.options.leaseMs
    const liveness = content && typeof content.pid === 'number' ? processLiveness(content) : 'unknown'
    if (liveness === 'alive') return undefined
    if (liveness === 'dead' || expired) return { ino: stat.ino, nonce: content?.nonce }
    return undefined
  }
}
