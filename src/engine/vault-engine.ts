import { ClosedError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../errors/errors.js'
import { validateVaultName } from './vault-name.js'
import { BlobStore } from '../persistence/blob-store.js'
import { FORMAT_VERSION } from '../persistence/format.js'
import { VaultFiles, type Durability, type RecoveryReport } from '../persistence/vault-files.js'
import type { SqlJsLocation, SqliteDatabase, StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { CommitQueue } from './commit-queue.js'
import type { CallContext } from './context.js'
import { createDomains, domainSchemas, type DomainName, type Domains } from './domains.js'
import { domainMethods, methodKind } from './domain-methods.js'
import { appliedRequest, recordRequest } from './request-log.js'
import { EngineSharing } from '../sharing/engine-sharing.js'
import type { SharingHost } from '../sharing/sharing-types.js'
import { openFilesShared } from '../sharing/open-shared.js'
import type { EngineServices } from '../sharing/engine-services.js'
import { describeChanges, type ChangeEvent } from '../sharing/changes.js'

/** The settings every engine takes, whatever runs it (Node, a worker, the page). */
export interface VaultSettings {
  /** false: NotFoundError when the vault does not exist. Default true. */
  create?: boolean
  readOnly?: boolean
  /** Open a damaged vault anyway (docs/format.md, "Repair"): may drop acknowledged commits. */
  repair?: boolean
  author?: string
  description?: string
  durability?: Durability
  /** Checkpoint once the log holds this many bytes (and at least as many as the image). Default 16 MiB. */
  checkpointBytes?: number
  /** Lease of running processes (their holders renew it at a third). Default 10 s. */
  processLeaseMs?: number
}

/** Options the engine is opened with (the client resolves storage and defaults first). */
export interface EngineOptions extends VaultSettings {
  name: string
  storage: StorageAdapter
  /** Close the adapter when the vault closes (true when the client made it). */
  ownsStorage?: boolean
  sqlJs?: SqlJsLocation
  /** With relaxed durability, flush at most this long after a commit. Default 100 ms. */
  relaxedFlushMs?: number
  /** A user transaction left open longer than this is rolled back. Default 60 s. */
  transactionTimeoutMs?: number
  /**
   * Other engines (other Node processes) use the same files: writes take the host's lock and catch
   * up first, reads catch up when the files changed (src/sharing). Unset: this engine is alone.
   */
  sharing?: SharingHost
}

/** What `vault.info()` returns. */
export interface VaultInfo {
  name: string
  author: string
  description: string
  /** ISO 8601 time the vault was created. */
  createdAt: string
  /** The storage adapter's kind: `memory`, `fs`, `opfs`, `indexeddb` or a custom adapter's. */
  storage: string
  /** Bytes used: image + log + blobs. */
  sizeBytes: number
  /** The on-disk format version of the vault. */
  formatVersion: number
  durability: Durability
  readOnly: boolean
  /** What opening replayed and dropped. */
  recovery: RecoveryReport
  /** The origin's storage estimate (browsers), when requested and available. */
  storageEstimate?: { usage?: number; quota?: number; persisted?: boolean }
  /** Browser: whether this tab runs the engine (`leader`) or forwards its calls (`follower`); README.md, "Sharing a vault". */
  tabRole?: 'leader' | 'follower'
}

interface OpenTransaction {
  release(): void
  timer: ReturnType<typeof setTimeout>
  ctx: CallContext
}

let transactionCounter = 0

export { validateVaultName }

/**
 * One open vault: every public call arrives here as a method call, directly on Node or through
 * the worker. Domain calls go through {@link invoke}; changes are group-committed to the log by the
 * {@link CommitQueue}; checkpoints run when the queue is idle.
 */
export class VaultEngine {
  private closed = false
  private closing: Promise<void> | undefined
  private readonly domains: Domains = createDomains()
  private readonly queue: CommitQueue
  private readonly blobs: BlobStore
  private readonly plain: CallContext
  private readonly transactions = new Map<string, OpenTransaction>()
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private checkpointScheduled = false
  private checkpointing: Promise<void> | undefined
  /** Extra facts for info() from the host (e.g. the browser's storage estimate). */
  hostInfo: Partial<VaultInfo> = {}

  /** Shared mode: the write gate and catch-up of src/sharing. */
  private readonly sharing: EngineSharing | undefined
  private readonly changeListeners = new Set<(change: ChangeEvent) => void>()

  private constructor(
    private readonly files: VaultFiles,
    private readonly options: EngineOptions,
  ) {
    this.blobs = new BlobStore(options.storage, files.folder)
    const engine = this
    if (options.sharing) {
      this.sharing = new EngineSharing(
        options.sharing,
        files,
        (r) => {
          // Another process committed: it may have written or collected blobs.
          this.blobs.forgetTotal()
          this.emitChange(r.groups, true, r.reloaded)
        },
        () => this.queue.idle && this.transactions.size === 0,
      )
    }
    this.queue = new CommitQueue(files.db, (groups) => this.appendToLog(groups), () => this.afterIdle(), this.sharing)
    const services: EngineServices = {
      subscribe: (listener) => this.subscribe(listener),
      nextChange: (ms) => this.nextChange(ms),
      refresh: () => this.refresh(),
      processLeaseMs: options.processLeaseMs ?? 10_000,
      get closing() {
        return engine.closed || engine.closing !== undefined
      },
    }
    this.domains.processes.attach(services)
    this.domains.changes.attach(services)
    this.plain = {
      db: files.db,
      blobs: this.blobs,
      inTransaction: false,
      write<T>(fn: () => T): Promise<T> {
        engine.checkWritable()
        return engine.queue.submit(fn)
      },
    }
  }

  /** Open or create a vault. */
  static async open(options: EngineOptions): Promise<VaultEngine> {
    validateVaultName(options.name)
    const open = (repair: boolean) =>
      VaultFiles.open(options.storage, options.name, {
        readOnly: (options.readOnly ?? false) || !repair,
        create: options.create ?? true,
        identity: { name: options.name, author: options.author ?? '', description: options.description ?? '' },
        sqlJs: options.sqlJs,
        initSchema: (db) => createSchemas(db),
        repair: options.repair,
      })
    // Shared with other processes: src/sharing/open-shared.ts (creation under the lock).
    const files = options.sharing ? await openFilesShared(options.sharing, options.storage, options.name, open, options.repair === true && !options.readOnly) : await open(true)
    const engine = new VaultEngine(files, options)
    try {
      if (!options.readOnly) await engine.migrate()
      // Blobs a killed write left behind (written before its commit, which never came). Not with
      // other processes possibly writing: their blobs wait for their commit; checkpoints collect those.
      if (!options.readOnly && (!options.sharing || options.sharing.mode === 'exclusive')) await engine.collectOrphanBlobs()
    } catch (err) {
      engine.sharing?.close()
      await files.close()
      throw err
    }
    return engine
  }

  private get db(): SqliteDatabase {
    return this.files.db
  }

  private get durability(): Durability {
    return this.options.durability ?? 'strict'
  }

  private checkOpen(): void {
    if (this.closed || this.closing) throw new ClosedError(`vault "${this.options.name}" is closed`)
  }

  private checkWritable(): void {
    this.checkOpen()
    if (this.options.readOnly) throw new UnsupportedError(`vault "${this.options.name}" is open read-only`)
  }

  /** Create the tables of domains this vault does not have yet (a vault made by an older build). */
  private async migrate(): Promise<void> {
    const have = new Map(this.db.all('SELECT domain, version FROM schema_versions').map((r) => [r[0] as string, r[1] as number]))
    const missing = Object.entries(domainSchemas).filter(([name, s]) => (have.get(name) ?? 0) < s.version)
    if (missing.length === 0) return
    await this.queue.submit(() => {
      for (const [name, s] of missing) {
        this.db.execScript(s.schema)
        this.db.run('INSERT OR REPLACE INTO schema_versions (domain, version) VALUES (?, ?)', [name, s.version])
      }
    })
  }

  private async appendToLog(groups: StatementGroup[]): Promise<void> {
    await this.files.append(groups, this.durability)
    this.sharing?.noteOwnCommit()
    if (this.changeListeners.size > 0) {
      const seq = this.files.lastSeq
      queueMicrotask(() => this.emitChange(groups, false, false, seq))
    }
    if (this.durability === 'relaxed' && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined
        this.files.flush().catch(() => {})
      }, this.options.relaxedFlushMs ?? 100)
    }
  }

  private afterIdle(): void {
    if (this.closed || this.checkpointScheduled || this.options.readOnly) return
    const threshold = Math.max(this.options.checkpointBytes ?? 16 * 1024 * 1024, this.files.manifest.imageSize)
    if (this.files.logBytes < threshold) return
    this.checkpointScheduled = true
    setTimeout(() => {
      this.checkpointScheduled = false
      if (!this.closed) this.checkpoint().catch(() => {})
    }, 0)
  }

  /** Write a fresh image and start a new log (also done automatically when the log grows). */
  async checkpoint(): Promise<void> {
    this.checkWritable()
    if (this.checkpointing) return this.checkpointing
    this.checkpointing = (async () => {
      const release = await this.queue.exclusive()
      try {
        await this.files.checkpoint()
        await this.collectBlobs()
      } finally {
        release()
        this.checkpointing = undefined
      }
    })()
    return this.checkpointing
  }

  private async collectOrphanBlobs(): Promise<void> {
    const release = await this.queue.exclusive()
    try {
      await this.collectBlobs()
    } finally {
      release()
    }
  }

  private async collectBlobs(): Promise<void> {
    const live = new Set<string>()
    for (const schema of Object.values(domainSchemas)) {
      for (const q of schema.blobReferences ?? []) this.db.each(q, [], (row) => live.add(row[0] as string))
    }
    await this.blobs.collect(live)
  }

  /**
   * Call `domain.method(context, ...args)`. `txId` names an open user transaction (or null).
   * Only the methods listed in `domainMethods` can be reached.
   *
   * `requestKey` (a call forwarded from another tab, which may send it again after a leader
   * failover): a write runs exactly once. It runs as a transaction of its own whose commit also
   * records the key and the result (src/engine/request-log.ts); the same key again returns the
   * recorded result without running anything.
   */
  async invoke(txId: string | null, domain: string, method: string, args: unknown[], requestKey?: string): Promise<unknown> {
    this.checkOpen()
    if (!Object.hasOwn(domainMethods, domain)) throw new InvalidArgumentError(`unknown domain "${domain}"`)
    const kind = methodKind(domain, method)
    if (!kind) throw new InvalidArgumentError(`unknown method "${domain}.${method}"`)
    const target = this.domains[domain as DomainName] as object
    const fn = (Object.getPrototypeOf(target) as Record<string, unknown>)[method] as (...a: unknown[]) => unknown
    if (requestKey !== undefined && txId === null && kind === 'write') return this.invokeOnce(requestKey, (ctx) => fn.call(target, ctx, ...args))
    const ctx = txId === null ? this.plain : this.transactionContext(txId)
    // Shared files: a read sees every commit other processes acknowledged before it started.
    if (this.sharing && txId === null) {
      await this.sharing.refresh()
      await this.queue.whenGateOpen()
    }
    return fn.call(target, ctx, ...args)
  }

  private async invokeOnce(requestKey: string, call: (ctx: CallContext) => unknown): Promise<unknown> {
    const done = appliedRequest(this.db, requestKey)
    if (done) return done.result
    const txId = await this.beginTransaction()
    const tx = this.transactions.get(txId)!
    try {
      // Looked up again now that nothing else can commit: the first send may have just finished.
      const applied = appliedRequest(this.db, requestKey)
      if (applied) {
        await this.rollbackTransaction(txId)
        return applied.result
      }
      const result = await call(tx.ctx)
      await tx.ctx.write(() => recordRequest(this.db, requestKey, result))
      await this.commitTransaction(txId)
      return result
    } catch (err) {
      await this.rollbackTransaction(txId)
      throw err
    }
  }

  private transactionContext(txId: string): CallContext {
    const tx = this.transactions.get(txId)
    if (!tx) throw new NotFoundError(`transaction ${txId} is not open (it was committed, rolled back or timed out)`)
    return tx.ctx
  }

  /** Start a user transaction; resolves once every earlier write is committed. */
  async beginTransaction(): Promise<string> {
    this.checkWritable()
    const release = await this.queue.exclusive()
    if (this.closed) {
      release()
      throw new ClosedError(`vault "${this.options.name}" is closed`)
    }
    // Unique across engines: a call naming a transaction of a vanished leader must never reach
    // another transaction of the next leader.
    const id = `tx${++transactionCounter}-${globalThis.crypto.randomUUID()}`
    const db = this.db
    db.control('BEGIN')
    db.startRecording()
    const ctx: CallContext = {
      db,
      blobs: this.blobs,
      inTransaction: true,
      write: async <T>(fn: () => T): Promise<T> => {
        if (!this.transactions.has(id)) throw new NotFoundError(`transaction ${id} is not open`)
        const mark = db.recordingMark()
        db.control('SAVEPOINT t')
        try {
          const result = fn()
          db.control('RELEASE t')
          return result
        } catch (err) {
          db.rewindRecording(mark)
          db.control('ROLLBACK TO t')
          db.control('RELEASE t')
          throw err
        }
      },
    }
    const timer = setTimeout(() => void this.rollbackTransaction(id), this.options.transactionTimeoutMs ?? 60_000)
    this.transactions.set(id, { release, timer, ctx })
    return id
  }

  /**
   * Make a transaction's changes durable, all or nothing. With `requestKey` (a commit forwarded
   * from another tab), the commit records the key, so that the same commit sent again to a new
   * leader, after the old one committed and vanished before answering, resolves instead of failing.
   */
  async commitTransaction(txId: string, requestKey?: string): Promise<void> {
    const tx = this.transactions.get(txId)
    if (!tx) {
      if (requestKey !== undefined && appliedRequest(this.db, requestKey)) return
      throw new NotFoundError(`transaction ${txId} is not open (it was rolled back or timed out)`)
    }
    if (requestKey !== undefined) await tx.ctx.write(() => recordRequest(this.db, requestKey, undefined))
    this.transactions.delete(txId)
    clearTimeout(tx.timer)
    const groups = this.db.stopRecording()
    try {
      if (groups.length > 0) await this.appendToLog(groups)
      this.db.control('COMMIT')
    } catch (err) {
      this.db.control('ROLLBACK')
      throw err
    } finally {
      tx.release()
    }
  }

  /** Discard a transaction's changes. Unknown or finished transactions are ignored. */
  async rollbackTransaction(txId: string): Promise<void> {
    const tx = this.transactions.get(txId)
    if (!tx) return
    this.transactions.delete(txId)
    clearTimeout(tx.timer)
    this.db.stopRecording()
    this.db.control('ROLLBACK')
    tx.release()
  }

  /** Name, identity, sizes and recovery report. */
  async info(): Promise<VaultInfo> {
    this.checkOpen()
    const m = this.files.manifest
    return {
      name: m.name,
      author: m.author,
      description: m.description,
      createdAt: m.createdAt,
      storage: this.options.storage.kind,
      sizeBytes: this.db.imageSize() + this.files.logBytes + (await this.blobs.totalBytes()),
      formatVersion: FORMAT_VERSION,
      durability: this.durability,
      readOnly: this.options.readOnly ?? false,
      recovery: this.files.recovery,
      ...this.hostInfo,
    }
  }

  /**
   * SQLite's `PRAGMA integrity_check` over the open database: `['ok']` when the b-trees, indexes and
   * free lists are sound, otherwise one message per problem found (used by the crash tests).
   */
  async integrityCheck(): Promise<string[]> {
    this.checkOpen()
    return this.db.all('PRAGMA integrity_check').map((row) => String(row[0]))
  }

  /** Wait for pending writes, roll back open transactions, checkpoint if worthwhile, release files. */
  close(): Promise<void> {
    if (this.closing) return this.closing
    this.closing = (async () => {
      this.domains.changes.wakeAll()
      for (const id of [...this.transactions.keys()]) await this.rollbackTransaction(id)
      await this.checkpointing?.catch(() => {})
      await this.queue.whenIdle()
      this.closed = true
      if (this.flushTimer) clearTimeout(this.flushTimer)
      try {
        if (!this.options.readOnly && this.files.logBytes > 64 * 1024) {
          // Shared: only under the lock, caught up, and without waiting long for it.
          if (this.sharing) await this.sharing.acquire(1000)
          await this.files.checkpoint()
          await this.collectBlobs()
        }
      } catch {
        // The log already holds every commit; a failed checkpoint loses nothing.
      } finally {
        this.sharing?.close()
        for (const l of [...this.changeListeners]) this.changeListeners.delete(l)
        await this.files.close()
        if (this.options.ownsStorage) await this.options.storage.close()
      }
    })()
    return this.closing
  }

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Call `listener` after every change to the vault: commits of this engine, and (shared mode)
   * commits of other processes, noticed by watching the files. Returns the unsubscribe function.
   */
  subscribe(listener: (change: ChangeEvent) => void): () => void {
    this.checkOpen()
    this.changeListeners.add(listener)
    this.sharing?.watchFiles()
    let active = true
    return () => {
      if (!active) return
      active = false
      this.changeListeners.delete(listener)
      this.sharing?.unwatchFiles()
    }
  }

  /** Resolves on the next change (any origin) or after `timeoutMs`. */
  nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let stop: () => void = () => {}
      const timer = setTimeout(() => {
        stop()
        resolve()
      }, timeoutMs)
      try {
        stop = this.subscribe(() => {
          clearTimeout(timer)
          stop()
          resolve()
        })
      } catch {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** Shared mode: apply other processes' commits now (no-op otherwise). */
  async refresh(): Promise<void> {
    await this.sharing?.refresh()
  }

  private emitChange(groups: StatementGroup[], external: boolean, reloaded: boolean, seq = this.files.lastSeq): void {
    if (this.changeListeners.size === 0) return
    const change = describeChanges(this.db, groups, external, seq, reloaded)
    for (const l of [...this.changeListeners]) {
      try {
        l(change)
      } catch {
        // A listener's error must not disturb the engine.
      }
    }
  }
}

function createSchemas(db: SqliteDatabase): void {
  db.execScript('CREATE TABLE IF NOT EXISTS schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL)')
  for (const [name, s] of Object.entries(domainSchemas)) {
    db.execScript(s.schema)
    db.run('INSERT OR REPLACE INTO schema_versions (domain, version) VALUES (?, ?)', [name, s.version])
  }
}
