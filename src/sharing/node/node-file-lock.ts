import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { randomBytes } from 'node:crypto'
import { LockTimeoutError } from '../../errors/errors.js'
import { storageError } from '../../storage/node-fs-adapter.js'
import { processLiveness, selfIdentity, type ProcessIdentity } from './proc-identity.js'
import type { WriteLock } from '../../engine/sharing/sharing-types.js'

/** What a lock file holds (JSON). Its mtime is the lease: the holder touches it every lease/3. */
interface LockContent extends ProcessIdentity {
  nonce: string
  /** ms since the epoch when it was taken (for error messages). */
  at: number
  /** Set by importVault and deleteVault, which replace or remove the vault's files while they hold it. */
  purpose?: LockPurpose
}

/** Why a lock is held, when not to write: `import` (importVault) and `delete` (deleteVault) replace or remove the files. */
export type LockPurpose = 'import' | 'delete'

/** Options of {@link NodeFileLock}. */
export interface NodeFileLockOptions {
  /** A lock file older than this (by mtime) whose holder is not known to be alive may be broken. */
  leaseMs: number
  /** A holder that has held the lock this long gives it up at its next idle moment when others wait. */
  sliceMs?: number
  /** The file system calls the lock makes (tests inject failures such as ENOSPC). Default: node:fs. */
  fs?: LockFs
  /** Recorded in the lock file: see {@link NodeFileLock.replacing}. */
  purpose?: LockPurpose
}

/** The node:fs calls a {@link NodeFileLock} makes. */
export type LockFs = Pick<
  typeof fs,
  'openSync' | 'writeSync' | 'closeSync' | 'linkSync' | 'unlinkSync' | 'readFileSync' | 'statSync' | 'utimesSync' | 'writeFileSync' | 'mkdirSync' | 'watch'
>

/**
 * A lock file whose content cannot be read (empty or garbled) is breakable once it is this old:
 * this version never shows a partial lock file (it links a complete one into place), and older
 * ones wrote theirs microseconds after creating it, so such a file is left over by a failure.
 */
const GARBLED_LOCK_MS = 100

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
  private readonly fs: LockFs

  constructor(
    readonly path: string,
    private readonly options: NodeFileLockOptions,
  ) {
    this.breakPath = `${path}.break`
    this.waitPath = `${path}.wait`
    this.fs = options.fs ?? fs
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
            watcher = this.fs.watch(nodePath.dirname(this.path), { persistent: false }, (_e, f) => {
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
        this.fs.unlinkSync(this.path)
      } catch {}
    }
  }

  /**
   * True when another process that is not known to be dead holds the lock to import over the vault
   * or delete it. An open of an existing vault reads its files without the lock; while this is true
   * it waits for the lock instead (src/engine/sharing/open-shared.ts): what it would read is about
   * to be replaced. Such an importer or deleter looks at the open marks only after taking the lock,
   * and an opener asks this only after writing its mark, so one of the two always sees the other.
   */
  replacing(): boolean {
    const content = this.readLock()
    if (!content || content.nonce === this.nonce || (content.purpose !== 'import' && content.purpose !== 'delete')) return false
    return typeof content.pid !== 'number' || processLiveness(content) !== 'dead'
  }

  /** True when others wait and this holder has had the lock for a slice: release at the next idle. */
  shouldYield(): boolean {
    if (!this.held || Date.now() - this.heldSince < (this.options.sliceMs ?? 50)) return false
    try {
      return Date.now() - this.fs.statSync(this.waitPath).mtimeMs < 50
    } catch {
      return false
    }
  }

  /** Release because others wait; the next acquire of this holder defers a little. */
  yieldToWaiters(): void {
    this.yieldedAt = Date.now()
    this.release()
  }

  /**
   * Try to take the lock once. The content is written to a private file first and linked into
   * place (link fails with EEXIST like O_EXCL), so the lock file never exists half-written: a
   * full disk (ENOSPC) fails before the lock exists and leaves nothing behind
   * (QuotaExceededError), and a lock file that cannot be read is never a live holder's.
   */
  private tryCreate(folderTries = 0): boolean {
    const content: LockContent = { ...selfIdentity(), nonce: randomBytes(12).toString('hex'), at: Date.now(), ...(this.options.purpose ? { purpose: this.options.purpose } : {}) }
    const text = JSON.stringify(content)
    const tmp = `${this.path}.${content.nonce}.tmp`
    let linked: boolean
    try {
      this.writeFile(tmp, text)
      try {
        this.fs.linkSync(tmp, this.path)
        linked = true
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EEXIST') return false
        // A file system without hard links: create the lock in place, removing it if the write fails.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err
        linked = false
      } finally {
        this.unlinkQuietly(tmp)
      }
      if (!linked && !this.createInPlace(text)) return false
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // The folder may be missing, or removed again (a failed open or import of another process
      // removes the empty folder it made): made again, a few times at most.
      if (code === 'ENOENT' && folderTries < 3) {
        try {
          this.fs.mkdirSync(nodePath.dirname(this.path), { recursive: true })
        } catch (mkdirErr) {
          throw storageError(mkdirErr, 'create the vault folder', nodePath.dirname(this.path))
        }
        return this.tryCreate(folderTries + 1)
      }
      throw storageError(err, 'take the write lock', nodePath.dirname(this.path))
    }
    this.nonce = content.nonce
    this.heldSince = Date.now()
    const every = Math.max(50, Math.floor(this.options.leaseMs / 3))
    this.heartbeat = setInterval(() => this.refresh(), every)
    this.heartbeat.unref?.()
    return true
  }

  /** Write a new file whole (`wx`); on failure remove what was created and rethrow. */
  private writeFile(path: string, text: string): void {
    const fd = this.fs.openSync(path, 'wx')
    try {
      this.fs.writeSync(fd, text)
    } catch (err) {
      this.fs.closeSync(fd)
      this.unlinkQuietly(path)
      throw err
    }
    this.fs.closeSync(fd)
  }

  private createInPlace(text: string): boolean {
    try {
      this.writeFile(this.path, text)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw err
    }
  }

  private unlinkQuietly(path: string): void {
    try {
      this.fs.unlinkSync(path)
    } catch {}
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
      this.fs.utimesSync(this.path, now, now)
    } catch {}
  }

  private readLock(): LockContent | undefined {
    try {
      return JSON.parse(this.fs.readFileSync(this.path, 'utf8')) as LockContent
    } catch {
      return undefined
    }
  }

  private markWaiting(): void {
    const now = new Date()
    try {
      this.fs.utimesSync(this.waitPath, now, now)
    } catch {
      try {
        this.fs.writeFileSync(this.waitPath, '')
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
      fd = this.fs.openSync(this.breakPath, 'wx')
    } catch {
      try {
        if (Date.now() - this.fs.statSync(this.breakPath).mtimeMs > 1000) this.fs.unlinkSync(this.breakPath)
      } catch {}
      return
    }
    this.fs.closeSync(fd)
    try {
      // Re-check under the break lock: the same lock file, still stale.
      const again = this.staleLock()
      if (again && again.ino === seen.ino && again.nonce === seen.nonce) this.fs.unlinkSync(this.path)
    } catch {
    } finally {
      try {
        this.fs.unlinkSync(this.breakPath)
      } catch {}
    }
  }

  /** The current lock file if it may be broken, with its inode and nonce; undefined otherwise. */
  private staleLock(): { ino: number; nonce: string | undefined } | undefined {
    let stat: fs.Stats
    try {
      stat = this.fs.statSync(this.path)
    } catch {
      return undefined
    }
    const content = this.readLock()
    const age = Date.now() - stat.mtimeMs
    // Empty or garbled: left over by a failure (see GARBLED_LOCK_MS), no holder to wait for.
    if (!content || typeof content.nonce !== 'string') return age > GARBLED_LOCK_MS ? { ino: stat.ino, nonce: undefined } : undefined
    const expired = age > this.options.leaseMs
    const liveness = typeof content.pid === 'number' ? processLiveness(content) : 'unknown'
    if (liveness === 'alive') return undefined
    if (liveness === 'dead' || expired) return { ino: stat.ino, nonce: content.nonce }
    return undefined
  }
}
