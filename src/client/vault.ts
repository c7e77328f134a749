import { ClosedError } from '../errors/errors.js'
import type { VaultInfo } from '../engine/vault-engine.js'
import { KeyValue } from '../kv/key-value.js'
import { ItemLists } from '../items/item-lists.js'
import { Lineage } from '../items/lineage.js'
import { Search } from '../items/search.js'
import { startSession, type Session } from '../items/session.js'
import type { SessionOptions } from '../items/item-types.js'
import { DomainCaller } from './domain-caller.js'
import { Processes } from '../processes/processes.js'
import { startWatch, type ChangeEvent, type WatchFilter } from '../sharing/watch.js'
import type { EnginePort } from './engine-port.js'
import { Columns } from '../columns/column.js'

/** The domain APIs, shared by a {@link Vault} and a {@link VaultTransaction}. */
export class VaultDomains {
  /** @internal */
  protected readonly kvs = new Map<string, KeyValue>()

  /** @internal */
  constructor(protected readonly caller: DomainCaller) {}

  /** A key-value namespace (`default` when none is named). */
  kv<V = unknown>(namespace = 'default'): KeyValue<V> {
    let kv = this.kvs.get(namespace)
    if (!kv) {
      kv = new KeyValue(this.caller, namespace)
      this.kvs.set(namespace, kv)
    }
    return kv as KeyValue<V>
  }

  private itemLists: ItemLists | undefined
  private itemLineage: Lineage | undefined
  private itemSearch: Search | undefined

  /** Item lists (documents, embeddings, files, records): create, open, describe, delete. */
  get lists(): ItemLists {
    return (this.itemLists ??= new ItemLists(this.caller))
  }

  /** Lineage between item ranges: parents, children, ancestors, descendants. */
  get lineage(): Lineage {
    return (this.itemLineage ??= new Lineage(this.caller))
  }

  /** Text, vector, code and description search over item lists. */
  get search(): Search {
    return (this.itemSearch ??= new Search(this.caller))
  }

  /** @internal */
  protected columnsApi: Columns | undefined

  /** Typed columns (ColumnVault): create, ensure, get, list, delete. */
  get columns(): Columns {
    return (this.columnsApi ??= new Columns(this.caller))
  }

  /** Start a session: who runs which code. Pass it to appends so items record where they came from. */
  async session(name: string, options: SessionOptions = {}): Promise<Session> {
    const user = options.user ?? (await this.defaultUser())
    return startSession(this.caller, name, { ...options, user })
  }

  /** @internal Who a session runs as when no user is given. */
  protected async defaultUser(): Promise<string> {
    return ''
  }
}

/**
 * The domain APIs inside `vault.transaction(fn)`: everything done through it commits atomically
 * when `fn` resolves, or not at all when it throws.
 */
export class VaultTransaction extends VaultDomains {}

/** An open vault. Get one with `openVault()`. Every method is async: it may cross a worker. */
export class Vault extends VaultDomains {
  private closed = false
  private closing: Promise<void> | undefined

  /** @internal Use `openVault()`. */
  constructor(
    private readonly port: EnginePort,
    /** The vault's name. */
    readonly name: string,
    private readonly onClose: () => void = () => {},
  ) {
    super(new DomainCaller(port, null, () => this.closed, name))
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`vault "${this.name}" is closed`)
  }

  private author: Promise<string> | undefined

  /** @internal Sessions run as the vault's author unless told otherwise (asked once). */
  protected override defaultUser(): Promise<string> {
    this.author ??= this.port.info().then((i) => i.author, () => '')
    return this.author
  }

  /** Name, author, description, creation time, storage kind, size in bytes and format version. */
  async info(): Promise<VaultInfo> {
    this.checkOpen()
    return this.port.info()
  }

  /**
   * Check the vault's database with SQLite's `PRAGMA integrity_check`: resolves to `['ok']` when it
   * is sound, otherwise to the problems found (one message each). Reads only.
   */
  async integrityCheck(): Promise<string[]> {
    this.checkOpen()
    return this.port.integrityCheck()
  }

  /**
   * Run `fn` as one atomic transaction: its reads see its own writes, and its writes commit
   * together once `fn` resolves (durably, with strict durability), or not at all when it throws.
   * Other writes of this vault wait until it ends; keep it short. Returns what `fn` returns.
   */
  async transaction<T>(fn: (tx: VaultTransaction) => Promise<T> | T): Promise<T> {
    this.checkOpen()
    const txId = await this.port.beginTransaction()
    let result: T
    try {
      result = await fn(new VaultTransaction(this.caller.withTransaction(txId)))
    } catch (err) {
      await this.port.rollbackTransaction(txId).catch(() => {})
      throw err
    }
    await this.port.commitTransaction(txId)
    return result
  }

  /** Write a fresh image and start a new log now (normally automatic). */
  async checkpoint(): Promise<void> {
    this.checkOpen()
    return this.port.checkpoint()
  }

  private processesClient: Processes | undefined
  private readonly watchStops = new Set<() => void>()

  /** Processes and signals: start, pause, resume, stop, active, completed (README.md, "Sharing a vault"). */
  get processes(): Processes {
    return (this.processesClient ??= new Processes(this.caller))
  }

  /**
   * Be told when the vault changes: commits made here and, above all, elsewhere (another tab,
   * worker or Node process). `filter` narrows it (`{ domains: ['kv'], kvNamespaces: ['settings'],
   * externalOnly: true }`). Resolves once watching (every later change is reported) to the function
   * that stops it.
   */
  async watch(filter: WatchFilter | ((change: ChangeEvent) => void), callback?: (change: ChangeEvent) => void): Promise<() => void> {
    this.checkOpen()
    const cb = typeof filter === 'function' ? filter : callback
    if (typeof cb !== 'function') throw new TypeError('vault.watch needs a callback')
    const stop = await startWatch(this.caller, typeof filter === 'function' ? undefined : filter, cb, () => this.closed)
    const stopAll = () => {
      stop()
      this.watchStops.delete(stopAll)
    }
    this.watchStops.add(stopAll)
    return stopAll
  }

  /** Flush, checkpoint if worthwhile and release the vault. Idempotent; later calls reject with ClosedError. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const stop of [...this.watchStops]) stop()
      this.processesClient?._close()
      try {
        // Values still buffered by withCache are written before the engine goes away.
        for (const kv of this.kvs.values()) await kv.flush().catch(() => {})
        await this.columnsApi?.flush().catch(() => {})
      } finally {
        this.closed = true
        try {
          await this.port.close()
        } finally {
          this.onClose()
        }
      }
    })()
    return this.closing
  }

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed
  }
}
