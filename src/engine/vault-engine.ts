import { CallTurns } from './call-turns.js'
import { ClosedError, CorruptionError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../errors/errors.js'
import { validateVaultName } from '../protocol/vault-name.js'
import { BlobStore } from '../persistence/blob-store.js'
import { VaultFiles } from '../persistence/vault-files.js'
import type { CallOptions, Durability, OptimizeResult, VaultInfo, VaultSettings } from '../protocol/engine-types.js'
export type { CallOptions, VaultInfo, VaultSettings } from '../protocol/engine-types.js'
import type { SqlJsLocation, SqliteDatabase, StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { CommitQueue } from './commit-queue.js'
import type { CallContext, DomainSchema } from './context.js'
import type { MethodKind, MethodTable } from '../protocol/method-table.js'
import type { AnyDomainRecord } from './domain-record.js'
import { appliedRequest, recordRequest, requestLogSchema } from './request-log.js'
import { newVaultId, vaultIdOf, vaultIdStatements, vaultIdentitySchema } from './vault-identity.js'
import { EngineSharing } from './sharing/engine-sharing.js'
import type { SharingHost } from './sharing/sharing-types.js'
import { openFilesShared } from './sharing/open-shared.js'
import type { DerivedFileHost, EngineServices } from './engine-services.js'
import type { EngineChange } from '../domains/changes/shared/changes.js'
import { describeChanges, domainOfTableFor, type DomainOfTable } from './change-events.js'
import { takeSnapshot } from './engine-snapshot.js'
import { servedLoading } from './lazy-domain.js'

/** Options the engine is opened with (the client resolves storage and defaults first). */
export interface EngineOptions extends VaultSettings {
  name: string
  storage: StorageAdapter
  /** Close the adapter when the vault closes (true when the client made it). */
  ownsStorage?: boolean
  sqlJs?: SqlJsLocation
  /** Browser: URL of the folder with the package's other wasm assets (DuckDB's), see EngineServices.assetBase. */
  assetBase?: string
  /** A file for derived data beside the vault (DuckDB's cache of relations), when the opener has one. */
  derivedFile?: DerivedFileHost
  /**
   * The domains this engine serves, each by its record (src/engine/domain-record.ts): usually the
   * standard list, which `openVaultEngine` / `withStandardDomains` of src/domains/registry.ts supply.
   */
  domains: readonly AnyDomainRecord[]
  /** With relaxed durability, flush at most this long after a commit. Default 100 ms. */
  relaxedFlushMs?: number
  /** A user transaction left open longer than this is rolled back. Default 60 s. */
  transactionTimeoutMs?: number
  /**
   * Other engines (other Node processes) use the same files: writes take the host's lock and catch
   * up first, reads catch up when the files changed (src/engine/sharing; the Node host is
   * src/sharing/node). Given by whoever opens the engine; unset: this engine is alone.
   */
  sharing?: SharingHost
}

interface OpenTransaction {
  release(): void
  timer: ReturnType<typeof setTimeout>
  ctx: CallContext
  /** Its commit is synced before it resolves (strict) or not. */
  durability: Durability
  /** Run by the engine for one forwarded write (invokeOnce): it is a call in flight, not a user's transaction. */
  internal: boolean
  /** The member (another tab or worker) whose forwarded write this is (see {@link callerOf}). */
  caller?: string
}

/**
 * Who forwarded a call, from its request key (`<member id>:<call id>`, src/sharing/tabs): another
 * tab's or worker's member. Undefined for the calls of this engine's own handles.
 */
function callerOf(requestKey: string | undefined): string | undefined {
  return requestKey === undefined ? undefined : requestKey.slice(0, requestKey.lastIndexOf(':'))
}

/** A schema as the engine creates and migrates it: its row in `schema_versions` and its SQL. */
type VersionedSchema = DomainSchema & { name: string; version: number }

/** What `invoke` reaches for one domain name: the object serving it and its callable methods. */
interface ServedName {
  target: object
  methods: MethodTable
}

/** What the engine derives from its domains' records, once per engine. */
interface EngineDomains {
  served: Map<string, ServedName>
  /** The domains' schemas in the records' order, then the engine's own (the request log). */
  schemas: VersionedSchema[]
  domainOfTable: DomainOfTable
  /** Run when the engine begins to close (the change feed wakes its long polls). */
  closing: (() => void)[]
}

/** The schemas an engine with these domains creates, in order: the domains', then the engine's own. */
function schemasOf(records: readonly AnyDomainRecord[]): VersionedSchema[] {
  const schemas: VersionedSchema[] = []
  for (const r of records) if (r.storage) schemas.push({ name: r.name, version: r.storage.version, schema: r.storage.schema, blobReferences: r.storage.blobReferences })
  schemas.push(requestLogSchema, vaultIdentitySchema)
  return schemas
}

/** Make the domains' objects for one engine, and what it derives from their records. */
function createDomains(records: readonly AnyDomainRecord[], services: EngineServices): EngineDomains {
  const domains: EngineDomains = { served: new Map(), schemas: schemasOf(records), domainOfTable: domainOfTableFor(records), closing: [] }
  for (const record of records) {
    const instance = record.create(services)
    for (const [name, methods] of Object.entries(record.methods as Record<string, MethodTable>)) {
      domains.served.set(name, { target: (instance.serve as Record<string, object>)[name]!, methods })
    }
    if (instance.closing) domains.closing.push(() => instance.closing!())
  }
  return domains
}

let transactionCounter = 0

/**
 * How long a new vault's files wait (in a browser) for the first call to be answered before their
 * durable steps start anyway (createVault: an OPFS flush holds the worker's thread). Nothing was
 * acknowledged meanwhile, and anything that needs the files starts them at once.
 */
const CREATION_DEFER_MS = 100

export { validateVaultName }

/**
 * One open vault: every public call arrives here as a method call, directly on Node or through
 * the worker. Domain calls go through {@link invoke}; changes are group-committed to the log by the
 * {@link CommitQueue}; checkpoints run when the queue is idle.
 */
export class VaultEngine {
  private closed = false
  /** The member this engine leads for, if it does (see {@link leadsAs}). */
  private ownMember: string | undefined
  private closing: Promise<void> | undefined
  private readonly domains: EngineDomains
  private readonly queue: CommitQueue
  private readonly blobs: BlobStore
  private readonly plain: CallContext
  private readonly transactions = new Map<string, OpenTransaction>()
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private checkpointScheduled = false
  private checkpointing: Promise<void> | undefined
  /**
   * Opened read-only (the first handle was), the engine neither migrates, checkpoints nor cuts a
   * torn log tail; the first write of a handle that may write turns it writable ({@link ensureWritable}).
   */
  private writable: boolean
  private enablingWrites: Promise<void> | undefined
  /** Calls running now (not `wait` calls): close() lets them finish. */
  private active = 0
  private activeWaiters: (() => void)[] = []

  /** Shared mode: the write gate and catch-up (src/engine/sharing), built on the host given in the options. */
  private readonly sharing: EngineSharing | undefined
  private readonly changeListeners = new Set<(change: EngineChange) => void>()

  private constructor(
    private readonly files: VaultFiles,
    private readonly options: EngineOptions,
  ) {
    this.blobs = new BlobStore(options.storage, files.folder, options.sharing?.blobPins)
    this.writable = !options.readOnly
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
    this.queue = new CommitQueue(files.db, (groups, durability) => this.appendToLog(groups, durability), () => this.afterIdle(), this.sharing)
    const services: EngineServices = {
      subscribe: (listener) => this.subscribe(listener),
      nextChange: (ms) => this.nextChange(ms),
      refresh: () => this.refresh(),
      processLeaseMs: options.processLeaseMs ?? 10_000,
      assetBase: options.assetBase,
      commitPosition: () => ({ vault: `${this.files.manifest.name}@${this.files.manifest.createdAt}`, seq: this.files.lastSeq }),
      derivedFile: options.derivedFile,
      get closing() {
        return engine.closed || engine.closing !== undefined
      },
      snapshot: async () => {
        this.checkOpen()
        // An export reads the files: those of a creation still being written are waited for.
        await this.files.whenDurable()
        return takeSnapshot({ files: this.files, blobs: this.blobs, storage: options.storage, exclusive: () => this.queue.exclusive(), liveBlobs: () => this.liveBlobs() })
      },
    }
    this.domains = createDomains(options.domains, services)
    this.plain = this.plainContext({})
  }

  /** Open or create a vault. */
  static async open(options: EngineOptions): Promise<VaultEngine> {
    validateVaultName(options.name)
    // Storage that cannot list folders (static HTTP hosting) cannot be written either: such a
    // vault is opened read-only whatever the options say (its files are found from the manifest).
    if (options.storage.listable === false) options = { ...options, readOnly: true }
    checkDomains(options.domains)
    const open = (repair: boolean) =>
      VaultFiles.open(options.storage, options.name, {
        readOnly: (options.readOnly ?? false) || !repair,
        create: options.create ?? true,
        identity: { name: options.name, author: options.author ?? '', description: options.description ?? '' },
        sqlJs: options.sqlJs,
        schema: () => creationSchema(schemasOf(options.domains)),
        // A new vault's id is made with it: its creation record's last group.
        creationRows: () => vaultIdStatements(newVaultId()),
        repair: options.repair,
      })
    // Shared with other processes: src/engine/sharing/open-shared.ts (creation under the lock).
    const files = options.sharing ? await openFilesShared(options.sharing, options.storage, options.name, open, options.repair === true && !options.readOnly) : await open(true)
    const engine = new VaultEngine(files, options)
    // A creation's files wait for the first call (see track); with no call, not for long.
    if (files.creationPending) (setTimeout(() => files.hurry(), CREATION_DEFER_MS) as { unref?: () => void }).unref?.()
    try {
      engine.refuseNewerSchemas()
      // A vault this open just created has every table of these domains (its creation record was
      // made from them) and no commit that could have left a blob: nothing to migrate or collect
      // (a stray blob file in a folder with no vault is collected by its first checkpoint).
      if (engine.writable && !files.created) await engine.migrate()
      // Blobs a killed write left behind (written before its commit, which never came). Not with
      // other processes possibly writing: their blobs wait for their commit; checkpoints collect those.
      if (engine.writable && !files.created && (!options.sharing || options.sharing.mode === 'exclusive')) await engine.collectOrphanBlobs()
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

  /** At the start of a call: close() was called, so nothing new starts. */
  private checkOpen(): void {
    if (this.closed || this.closing) throw new ClosedError(`vault "${this.options.name}" is closed`)
  }

  /** Whether a call with these options may not write. */
  private callReadOnly(opts: CallOptions): boolean {
    return this.storageReadOnly || (opts.readOnly ?? this.options.readOnly ?? false)
  }

  /** Storage that cannot list (static HTTP hosting) is never written, whatever a handle may do. */
  private get storageReadOnly(): boolean {
    return this.options.storage.listable === false
  }

  /** Why a write is refused (the storage's nature, or the handle's option). */
  private readOnlyError(): UnsupportedError {
    return new UnsupportedError(
      this.storageReadOnly
        ? `vault "${this.options.name}" is read-only: its storage (${this.options.storage.kind}) cannot be written`
        : `vault "${this.options.name}" is open read-only (by this handle)`,
    )
  }

  /** At the start of a call that writes: open, and its handle may write. */
  private checkWritable(opts: CallOptions = {}): void {
    this.checkOpen()
    if (this.callReadOnly(opts)) throw this.readOnlyError()
  }

  /**
   * Before the first write of a handle that may write, on an engine opened read-only: cut a torn
   * log tail (unshared; shared engines cut it under the lock when they catch up) and create the
   * tables of domains the vault does not have yet, as a writable open would have.
   */
  private async ensureWritable(): Promise<void> {
    // A vault this open created answers before its files are durable (createVault): nothing that
    // writes goes on before they are, so its first record follows the creation record. A failed
    // creation rejects the write with its typed error (the next write tries the creation again).
    const creation = this.files.whenDurable()
    if (creation) await creation
    if (this.writable) return
    this.enablingWrites ??= (async () => {
      if (!this.sharing) {
        const path = this.files.logPath
        const size = await this.options.storage.size(path)
        if (size !== undefined && size > this.files.logEnd) {
          await this.options.storage.truncate(path, this.files.logEnd)
          await this.options.storage.sync(path)
        }
      }
      this.writable = true
      await this.migrate()
    })().catch((err: unknown) => {
      this.enablingWrites = undefined
      throw err
    })
    await this.enablingWrites
  }

  /**
   * The context of plain calls with these options: one per combination, kept, because domains
   * order a context's calls by its identity (e.g. a column's writes, src/domains/columns/engine/column-engine.ts).
   */
  private contextFor(opts: CallOptions): CallContext {
    if (opts.durability === undefined && opts.readOnly === undefined) return this.plain
    const key = `${opts.durability ?? this.durability}|${this.callReadOnly(opts)}`
    let ctx = this.contexts.get(key)
    if (!ctx) this.contexts.set(key, (ctx = this.plainContext(opts)))
    return ctx
  }
  private readonly contexts = new Map<string, CallContext>()
  /** Plain calls in arrival order (see `invoke`). */
  private readonly turns = new CallTurns()

  /** A context of plain (non-transaction) calls with these options. */
  private plainContext(opts: CallOptions): CallContext {
    const durability = opts.durability ?? this.durability
    const readOnly = this.callReadOnly(opts)
    const files = this.files
    return {
      db: this.files.db,
      blobs: this.blobs,
      inTransaction: false,
      get formatVersion() {
        return files.manifest.formatVersion
      },
      writesRun: () => this.queue.whenGateOpen(),
      write: <T>(fn: () => T): Promise<T> => {
        // A call that started before close() finishes: only a closed engine refuses.
        if (this.closed) return Promise.reject(new ClosedError(`vault "${this.options.name}" is closed`))
        if (readOnly || !this.writable) return Promise.reject(this.readOnlyError())
        return this.queue.submit(fn, durability)
      },
    }
  }

  /** Run a call as one of those close() lets finish. */
  private async track<T>(run: () => Promise<T> | T): Promise<T> {
    this.active++
    try {
      return await run()
    } finally {
      if (--this.active === 0) {
        for (const w of this.activeWaiters.splice(0)) w()
        // A creation's files wait for the first call to be answered (createVault): once its reply
        // is on its way, the thread is free for their flushes.
        if (this.files.creationPending) setTimeout(() => this.files.hurry(), 0)
      }
    }
  }

  /**
   * A domain whose tables a newer build of labvault wrote (a higher version in `schema_versions`)
   * may hold rows this build would misread, or blobs it would not know are referenced and would
   * collect: such a vault is refused before anything is written.
   */
  private refuseNewerSchemas(): void {
    const mine = new Map(this.domains.schemas.map((s) => [s.name, s.version]))
    for (const [name, version] of this.db.all('SELECT domain, version FROM schema_versions')) {
      const known = mine.get(name as string)
      if (known !== undefined && (version as number) > known) {
        throw new UnsupportedError(`vault "${this.options.name}" was written by a newer labvault: its ${String(name)} data has version ${String(version)}, this build reads up to ${known}; open it with that version or newer`)
      }
    }
  }

  /**
   * Create the tables of domains this vault does not have yet (a vault made by an older build), and
   * its id when it has none (made before vault ids): one logged commit, the first write-capable
   * open's, so the id is as durable as any write and replayed from the log.
   */
  private async migrate(): Promise<void> {
    const have = new Map(this.db.all('SELECT domain, version FROM schema_versions').map((r) => [r[0] as string, r[1] as number]))
    const missing = this.domains.schemas.filter((s) => (have.get(s.name) ?? 0) < s.version)
    if (missing.length === 0 && vaultIdOf(this.db) !== undefined) return
    await this.queue.submit(() => {
      for (const s of missing) {
        this.db.execScript(s.schema)
        this.db.run('INSERT OR REPLACE INTO schema_versions (domain, version) VALUES (?, ?)', [s.name, s.version])
      }
      // Shared: run after catching up with other processes' commits; an id one of them made stays.
      for (const [sql, runs] of vaultIdStatements(newVaultId())) for (const params of runs) this.db.run(sql, params)
    }, this.durability)
  }

  private async appendToLog(groups: StatementGroup[], durability: Durability, caller?: string): Promise<void> {
    await this.files.append(groups, durability)
    this.sharing?.noteOwnCommit()
    if (this.changeListeners.size > 0) {
      const seq = this.files.lastSeq
      queueMicrotask(() => this.emitChange(groups, false, false, seq, caller))
    }
    if (durability === 'relaxed' && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined
        this.files.flush().catch(() => {})
      }, this.options.relaxedFlushMs ?? 100)
    }
  }

  private afterIdle(): void {
    if (this.closed || this.checkpointScheduled || !this.writable) return
    const threshold = Math.max(this.options.checkpointBytes ?? 16 * 1024 * 1024, this.files.manifest.imageSize)
    if (this.files.logBytes < threshold) return
    this.checkpointScheduled = true
    setTimeout(() => {
      this.checkpointScheduled = false
      if (!this.closed) this.checkpoint().catch(() => {})
    }, 0)
  }

  /** Write a fresh image and start a new log (also done automatically when the log grows). */
  async checkpoint(opts: CallOptions = {}): Promise<void> {
    this.checkWritable(opts)
    if (!this.writable || this.files.creationPending) await this.ensureWritable()
    if (this.checkpointing) return this.checkpointing
    this.checkpointing = (async () => {
      try {
        // Inside the try: waiting for the queue can fail (shared mode: LockTimeoutError while
        // another process holds the write lock), and a checkpoint left set would hand that old
        // error to every later checkpoint of this engine, the automatic ones included.
        const release = await this.queue.exclusive()
        try {
          await this.files.checkpoint()
          await this.collectBlobs()
        } finally {
          release()
        }
      } finally {
        this.checkpointing = undefined
      }
    })()
    return this.checkpointing
  }

  /**
   * VACUUM, then checkpoint, both under the exclusive queue: no write runs between them, so the
   * fresh image is the vacuumed database and the log restarts empty. VACUUM changes no row (only
   * pages), which is why it need not be in the log; were the checkpoint to fail after it, the log
   * would go on from an image with other pages, so writes are refused until a reopen (the reopened
   * vault is the old image plus its log: every acknowledged write, unvacuumed).
   */
  async optimize(opts: CallOptions = {}): Promise<OptimizeResult> {
    this.checkWritable(opts)
    if (!this.writable || this.files.creationPending) await this.ensureWritable()
    await this.checkpointing?.catch(() => {})
    const release = await this.queue.exclusive()
    try {
      const bytesBefore = this.db.imageSize() + this.files.logBytes
      this.db.vacuum()
      try {
        await this.files.checkpoint()
      } catch (err) {
        this.files.refuseWrites(new CorruptionError('the checkpoint after a VACUUM failed; reopen the vault (no acknowledged write is lost)', { cause: err }))
        throw err
      }
      await this.collectBlobs()
      return { bytesBefore, bytesAfter: this.db.imageSize() + this.files.logBytes }
    } finally {
      release()
    }
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
    await this.blobs.collect(() => this.liveBlobs())
  }

  /** Every blob a row of the vault refers to (the domains' blob references). */
  private liveBlobs(): Set<string> {
    const live = new Set<string>()
    for (const schema of this.domains.schemas) {
      for (const q of schema.blobReferences ?? []) this.db.each(q, [], (row) => live.add(row[0] as string))
    }
    return live
  }

  /**
   * Call `domain.method(context, ...args)`. `txId` names an open user transaction (or null).
   * Only the methods the domains' records list can be reached (src/engine/domain-record.ts).
   *
   * `requestKey` (a call forwarded from another tab, which may send it again after a leader
   * failover): a write runs exactly once. It runs as a transaction of its own whose commit also
   * records the key and the result (src/engine/request-log.ts); the same key again returns the
   * recorded result without running anything.
   */
  async invoke(txId: string | null, domain: string, method: string, args: unknown[], requestKey?: string, opts: CallOptions = {}): Promise<unknown> {
    this.checkOpen()
    const served = this.domains.served.get(domain)
    if (!served) throw new InvalidArgumentError(`unknown domain "${domain}"`)
    const kind: MethodKind | undefined = Object.hasOwn(served.methods, method) ? served.methods[method] : undefined
    if (!kind) throw new InvalidArgumentError(`unknown method "${domain}.${method}"`)
    if (kind === 'write') this.checkWritable(opts)
    const target = served.target
    const fn = (Object.getPrototypeOf(target) as Record<string, unknown>)[method] as (...a: unknown[]) => unknown
    // A forwarded `wait` call (a watch's long poll) knows whose it is: a change is external to it
    // unless its own member made it (src/domains/changes/engine/changes-engine.ts).
    const context = (): CallContext => (kind === 'wait' && requestKey !== undefined ? (Object.create(this.contextFor(opts), { caller: { value: this.memberOf(requestKey) } }) as CallContext) : this.contextFor(opts))
    const run0 = (): unknown => fn.call(target, txId !== null ? this.transactionContext(txId) : context(), ...args)
    // Shared mode: a plain write issued before an attempt to take the write lock failed fails with
    // it when its turn comes (CommitQueue.gateFailedSince), instead of waiting a timeout of its own.
    const mark = this.sharing && kind === 'write' && txId === null ? this.queue.gateFailureMark : undefined
    const call = mark === undefined ? run0 : (): unknown => {
      const failed = this.queue.gateFailedSince(mark)
      if (failed !== undefined) throw failed
      return run0()
    }
    // A domain whose code loads on first use (src/engine/lazy-domain.ts): the call waits for it
    // before anything else, so it then runs as it would on loaded code, in its turn.
    const loading = servedLoading(target)
    const withLoad = (p: Promise<unknown> | undefined): Promise<unknown> | undefined => (loading === undefined ? p : p === undefined ? loading : Promise.all([loading, p]))
    // A user transaction's calls are ordered by the transaction (src/engine/commit-queue.ts, `exclusive`).
    if (txId !== null) return kind === 'wait' ? call() : this.track(async () => (loading ? loading.then(call) : call()))
    // Plain calls run in arrival order (a read sees every write that arrived before it and none
    // after it): at once when nothing needs awaiting first, else in a turn (src/engine/call-turns.ts).
    const enable = kind === 'write' && (!this.writable || this.files.creationPending)
    // (A write needs no catching up first: it runs once the write gate is taken, caught up.)
    // Checked now: with nothing to catch up with and no write waiting for the lock, a read runs at once.
    const refresh = this.sharing !== undefined && kind !== 'write' && (this.queue.gateOpeningNow || !this.sharing.current)
    let run: () => Promise<unknown>
    if (requestKey !== undefined && kind === 'write') {
      // Runs as a transaction of its own (after awaits): later calls wait until it has settled.
      run = () => this.turns.after(withLoad(enable ? this.ensureWritable() : undefined), () => this.invokeOnce(requestKey, opts, (ctx) => fn.call(target, ctx, ...args)), true)
    } else if (refresh) {
      // Shared files: a read sees every commit other processes acknowledged before it arrived, and
      // every write of this engine that waits for the write lock.
      run = () =>
        this.turns.after(
          withLoad(
            (async () => {
              await this.sharing!.refresh()
              await this.queue.whenGateOpen()
            })(),
          ),
          async () => call(),
        )
    } else if (enable) {
      run = () => this.turns.after(withLoad(this.ensureWritable()), async () => call(), () => this.queue.whenGateOpen())
    } else if (this.sharing && kind === 'write') {
      // Shared files: a write may wait for the write lock. Run at once, it queues in call order
      // and the reads after it wait for it (`whenGateOpen` above); run in a turn (after a read
      // that catches up), the calls after it wait until it ran.
      run = () => (loading ? this.turns.after(loading, async () => call(), () => this.queue.whenGateOpen()) : this.turns.run(async () => call(), () => this.queue.whenGateOpen()))
    } else run = () => (loading ? this.turns.after(loading, async () => call()) : this.turns.run(async () => call()))
    // A `wait` call (a watch's long poll, a paused process) may wait for a long time: close() wakes it instead.
    if (kind === 'wait') return run()
    const result = this.track(run)
    // A plain write stays pending until it settles: a transaction begun meanwhile waits for it
    // (beginTransaction), also when the write first awaits something of its own domain (a large
    // value's trip to the blob store) and so has not reached the commit queue yet.
    if (kind === 'write' && txId === null) {
      const pending = this.pendingWrites
      pending.add(result)
      const done = () => pending.delete(result)
      result.then(done, done)
    }
    return result
  }

  /** Plain writes not settled yet (see invoke). */
  private readonly pendingWrites = new Set<Promise<unknown>>()

  /**
   * This engine runs in the worker of the tab (or worker) `memberId`, which leads a vault shared by
   * tabs (src/sharing/tabs). That member's calls sent to an earlier leader that vanished run here
   * again with the request keys they were sent with (exactly once): they are its own calls, not
   * another member's, so its watches must not hear them as `external` (they did). @internal
   */
  leadsAs(memberId: string): void {
    this.ownMember = memberId
  }

  /** Who forwarded a call ({@link callerOf}); undefined for this engine's own handles, also their calls run again after a takeover. */
  private memberOf(requestKey: string | undefined): string | undefined {
    const member = callerOf(requestKey)
    return member === this.ownMember ? undefined : member
  }

  /** Resolves once every plain write that arrived so far has settled (undefined: none is pending). */
  private writesSettled(): Promise<void> | undefined {
    if (this.pendingWrites.size === 0) return undefined
    return Promise.allSettled([...this.pendingWrites]).then(() => {})
  }

  private async invokeOnce(requestKey: string, opts: CallOptions, call: (ctx: CallContext) => unknown): Promise<unknown> {
    const done = appliedRequest(this.db, requestKey)
    if (done) return done.result
    const txId = await this.openTransaction(opts, true)
    const tx = this.transactions.get(txId)!
    tx.caller = this.memberOf(requestKey)
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

  /**
   * Start a user transaction; resolves once every earlier write is committed. Its commit has the
   * durability of `opts` (the calling handle's).
   */
  async beginTransaction(opts: CallOptions = {}): Promise<string> {
    this.checkWritable(opts)
    // It takes its turn like a write (invoke) and begins once every earlier write is committed: the
    // commit queue's exclusive turn keeps arrival order, and a plain write that arrived before it
    // but awaits something first (to make the vault writable, a new vault's files, its domain's
    // code, a large value's blob) is waited for. A transaction never overtakes a write made before
    // it, and its reads see that write (test/node/transaction-order.test.ts).
    const enable = !this.writable || this.files.creationPending
    const settled = this.writesSettled()
    const mark = this.queue.gateFailureMark
    const begin = () => {
      // As a plain write (invoke): issued before a failed attempt to take the lock, it fails with it.
      const failed = this.queue.gateFailedSince(mark)
      return failed !== undefined ? Promise.reject(failed) : this.openTransaction(opts, false)
    }
    if (!enable && !settled) return this.track(() => this.turns.run(begin, () => undefined))
    const ready: Promise<unknown> = enable ? Promise.all([this.ensureWritable(), settled]) : settled!
    return this.track(() => this.turns.after(ready, begin, true))
  }

  private async openTransaction(opts: CallOptions, internal: boolean): Promise<string> {
    if (!this.writable || this.files.creationPending) await this.ensureWritable()
    const release = await this.queue.exclusive()
    // A user transaction that would start after close() began could never be committed.
    if (this.closed || (this.closing && !internal)) {
      release()
      throw new ClosedError(`vault "${this.options.name}" is closed`)
    }
    // Unique across engines: a call naming a transaction of a vanished leader must never reach
    // another transaction of the next leader.
    const id = `tx${++transactionCounter}-${globalThis.crypto.randomUUID()}`
    const db = this.db
    const engineFiles = this.files
    db.control('BEGIN')
    db.startRecording()
    const ctx: CallContext = {
      db,
      blobs: this.blobs,
      // A call forwarded from another tab runs alone in an internal transaction committed right
      // after it: to the domain it is a plain call, not part of a user's transaction.
      inTransaction: !internal,
      get formatVersion() {
        return engineFiles.manifest.formatVersion
      },
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
    this.transactions.set(id, { release, timer, ctx, durability: opts.durability ?? this.durability, internal })
    return id
  }

  /**
   * Make a transaction's changes durable, all or nothing. With `requestKey` (a commit forwarded
   * from another tab), the commit records the key, so that the same commit sent again to a new
   * leader, after the old one committed and vanished before answering, resolves instead of failing.
   */
  commitTransaction(txId: string, requestKey?: string): Promise<void> {
    return this.track(() => this.commitOpen(txId, requestKey))
  }

  private async commitOpen(txId: string, requestKey?: string): Promise<void> {
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
      // A change made for another tab's or worker's member is external to every other watcher.
      if (groups.length > 0) await this.appendToLog(groups, tx.durability, tx.caller ?? this.memberOf(requestKey))
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

  /** Name, identity, sizes and recovery report; `durability` and `readOnly` as the calling handle has them. */
  async info(opts: CallOptions = {}): Promise<VaultInfo> {
    this.checkOpen()
    const m = this.files.manifest
    return {
      name: m.name,
      author: m.author,
      description: m.description,
      createdAt: m.createdAt,
      storage: this.options.storage.kind,
      sizeBytes: this.db.imageSize() + this.files.logBytes + (await this.blobs.totalBytes(() => this.liveBlobs())),
      formatVersion: m.formatVersion,
      durability: opts.durability ?? this.durability,
      readOnly: this.callReadOnly(opts),
      recovery: this.files.recovery,
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

  /**
   * Refuse new calls; roll back open user transactions; let the calls already running finish
   * (their writes are committed); checkpoint if worthwhile; release the files.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing
    this.closing = (async () => {
      for (const wake of this.domains.closing) wake()
      for (const [id, tx] of [...this.transactions]) if (!tx.internal) await this.rollbackTransaction(id)
      while (this.active > 0) await new Promise<void>((r) => this.activeWaiters.push(r))
      await this.checkpointing?.catch(() => {})
      await this.queue.whenIdle()
      this.closed = true
      if (this.flushTimer) clearTimeout(this.flushTimer)
      try {
        if (this.writable && this.files.logBytes > 64 * 1024) {
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
        try {
          // Waits for a creation still being written; its failure rejects the close.
          await this.files.close()
        } finally {
          if (this.options.ownsStorage) await this.options.storage.close()
        }
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
  subscribe(listener: (change: EngineChange) => void): () => void {
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

  private emitChange(groups: StatementGroup[], external: boolean, reloaded: boolean, seq = this.files.lastSeq, caller?: string): void {
    if (this.changeListeners.size === 0) return
    const change: EngineChange = describeChanges(this.db, groups, this.domains.domainOfTable, external, seq, reloaded)
    if (caller !== undefined) change.caller = caller
    for (const l of [...this.changeListeners]) {
      try {
        l(change)
      } catch {
        // A listener's error must not disturb the engine.
      }
    }
  }
}

/** Refuse a list of domains the engine could not serve (before any file is opened). */
function checkDomains(records: readonly AnyDomainRecord[]): void {
  if (!Array.isArray(records)) throw new InvalidArgumentError('the engine needs its domains (EngineOptions.domains; see src/domains/registry.ts)')
  const domains = new Set<string>()
  const served = new Set<string>()
  for (const r of records) {
    if (domains.has(r.name)) throw new InvalidArgumentError(`two domains are named "${r.name}"`)
    domains.add(r.name)
    for (const name of Object.keys(r.methods)) {
      if (served.has(name)) throw new InvalidArgumentError(`two domains serve "${name}"`)
      served.add(name)
    }
  }
}

/**
 * The statements of the creation record of a vault with these domains (the build makes the
 * standard domains' database ahead from them: src/persistence/creation-image.ts).
 * @internal
 */
export function creationStatements(records: readonly AnyDomainRecord[]): StatementGroup[] {
  return creationSchema(schemasOf(records))
}

/**
 * A new vault's tables, as the statements of its creation record (replayed on an empty database
 * in one transaction): the versions table, every domain's schema, then each domain's version.
 */
function creationSchema(schemas: VersionedSchema[]): StatementGroup[] {
  const groups: StatementGroup[] = [['CREATE TABLE IF NOT EXISTS schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL)', []]]
  for (const s of schemas) groups.push([s.schema, []])
  if (schemas.length > 0) groups.push(['INSERT OR REPLACE INTO schema_versions (domain, version) VALUES (?, ?)', schemas.map((s) => [s.name, s.version])])
  return groups
}
