import { ClosedError } from '../errors/errors.js'
import type { OptimizeResult, VaultInfo } from '../protocol/engine-types.js'
import { KeyValue } from '../domains/kv/client/key-value.js'
import type { ItemLists } from '../domains/items/client/item-lists.js'
import type { Lineage } from '../domains/items/client/lineage.js'
import type { Search } from '../domains/items/client/search.js'
import type { Sessions, Session } from '../domains/items/client/session.js'
import type { SessionOptions } from '../domains/items/shared/item-types.js'
import { DomainCaller } from '../protocol/domain-caller.js'
import type { Processes } from '../domains/processes/client/processes.js'
import { randomId } from '../protocol/random-id.js'
import type { ChangeEvent, WatchFilter } from '../domains/changes/client/watch.js'
import type { EnginePort } from '../protocol/engine-port.js'
import type { Columns } from '../domains/columns/client/column.js'
import type { TransactionHost } from './transaction-run.js'
import type { Table } from 'apache-arrow'
import type { SqlOptions, SqlParam } from '../domains/sql/shared/sql-types.js'
import type { DatabaseClient } from '../domains/sql/client/database-client.js'
import type { ExportParquetOptions, ImportParquetOptions, ImportParquetResult } from '../domains/sql/client/sql-parquet.js'
import { Lifecycle, type GuardOptions } from './lifecycle.js'
import { LazyModule } from './lazy-client.js'
import { kvCallsIssued } from '../domains/kv/client/kv-values.js'
import type { CodeModules, Tables, TablesContext } from '../domains/tables/client/tables.js'
import type { VaultTreeResult } from '../domains/tables/client/tree.js'
import type { TreeOptions } from '../domains/tables/shared/table-types.js'
import type { Store } from '../domains/store/client/store.js'
import { type ItemClients, itemsModule, lazyCode, lazyDatabaseClient, lazyProcesses, lazyColumns, lazyItemClients, lazyStore, lazyTables, sqlModule, tablesModule } from './lazy-domains.js'

// Every domain client but the key-value store's loads on first use (src/client/lazy-domains.ts,
// docs/cold-start.md): the accessors below hand out stand-ins, so they stay synchronous.
const sqlClient = sqlModule

/** The domain APIs, shared by a {@link Vault} and a {@link VaultTransaction}. */
export class VaultDomains {
  /** @internal The key-value handles made here (close() and a transaction's commit write their caches). */
  readonly kvs = new Map<string, KeyValue>()

  /**
   * @internal `lifecycle` counts the calls made through what this hands out: a vault's close()
   * drains them, a transaction's commit waits for them (src/client/lifecycle.ts).
   */
  constructor(
    protected readonly caller: DomainCaller,
    protected readonly lifecycle: Lifecycle,
  ) {}

  /** @internal How an object is handed to users: its calls are admitted and counted. */
  protected handOut<T extends object>(obj: T, options?: GuardOptions): T {
    return this.lifecycle.guard(obj, options)
  }

  /** A key-value namespace (`default` when none is named). */
  kv<V = unknown>(namespace = 'default'): KeyValue<V> {
    let kv = this.kvs.get(namespace)
    if (!kv) {
      kv = new KeyValue(this.caller, namespace)
      this.kvs.set(namespace, kv)
    }
    // withCache is a scope, not a call: close() may be called inside it and writes its buffer.
    return this.handOut(kv as KeyValue<V>, { untracked: ['withCache'], sync: ['enableCache'] })
  }

  /** The four item clients, made together on first use (their calls keep their order across them). */
  private itemClients: ItemClients | undefined

  private itemStandIns(): ItemClients {
    return (this.itemClients ??= lazyItemClients(this.caller))
  }

  /** Item lists (documents, embeddings, files, records): create, open, describe, delete. */
  get lists(): ItemLists {
    return this.handOut(this.itemStandIns().lists, { handles: ['create', 'get'] })
  }

  /** Lineage between item ranges: parents, children, ancestors, descendants. */
  get lineage(): Lineage {
    return this.handOut(this.itemStandIns().lineage)
  }

  /** Text, vector, code and description search over item lists. */
  get search(): Search {
    return this.handOut(this.itemStandIns().search)
  }

  /** Every session of the vault, with status, parent and times (start one with `vault.session`). */
  get sessions(): Sessions {
    return this.handOut(this.itemStandIns().sessions)
  }

  /** @internal The columns client once used (close() and a transaction's commit write its caches). */
  columnsApi: Columns | undefined

  /** Typed columns (ColumnVault): create, ensure, get, list, delete. */
  get columns(): Columns {
    return this.handOut((this.columnsApi ??= lazyColumns(this.caller)), { handles: ['create', 'ensure', 'get'], sync: ['enableCache'], untracked: ['withCache'], handleOptions: () => ({ sync: ['enableCache'], untracked: ['withCache'] }) })
  }

  private tablesClient: Tables | undefined
  private codeClient: CodeModules | undefined
  private tablesCtx: TablesContext | undefined

  /** @internal What the tables and code clients run with (a vault's: its processes and lock wait). */
  protected tablesContext(): TablesContext {
    // Inside a transaction: no processes; operations commit with the transaction.
    return (this.tablesCtx ??= { caller: this.caller, processes: undefined, holder: `tx-${randomId()}`, lockTimeoutMs: () => 10_000 })
  }

  /** Versioned tables built by stored code (TableVault): tables, instances, builders, data, artifacts (docs/tables.md). */
  get tables(): Tables {
    return this.handOut((this.tablesClient ??= lazyTables(this.tablesContext())), { sync: ['artifacts'] })
  }

  /** Code modules (ES module source) that table builders call; stored as data, run only by `tables.execute`. */
  get code(): CodeModules {
    return this.handOut((this.codeClient ??= lazyCode(this.tablesContext())))
  }

  private storeApi: Store | undefined

  /** The experiment store (nirs4all's WorkspaceStore): runs, pipelines, chains, predictions, artifacts, logs. */
  get store(): Store {
    return this.handOut((this.storeApi ??= lazyStore(this.caller, { guard: (o) => this.handOut(o), optimize: this.storeOptimize() })))
  }

  /** @internal `vault.optimize` for `store.vacuum` (none inside a transaction). */
  protected storeOptimize(): (() => Promise<OptimizeResult>) | undefined {
    return undefined
  }

  /** Start a session: who runs which code. Pass it to appends so items record where they came from. */
  session(name: string, options: SessionOptions = {}): Promise<Session> {
    return this.admit(async () => this.handOut(await (await itemsModule()).startVaultSession(this.caller, name, options, () => this.defaultUser())))
  }

  /** @internal Run a call of the vault itself (a vault refuses it after close() and lets close() wait for it). */
  protected admit<T>(fn: () => Promise<T>): Promise<T> {
    return this.lifecycle.run(fn)
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

/**
 * The symbol `await using` calls. Engines without explicit resource management (Node 20 has its own
 * symbol; older browsers have none) get the registered symbol that TypeScript's and esbuild's
 * downlevel helpers fall back to, so a compiled `await using` still finds the method.
 */
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose)

/** `vault.transaction`'s code (src/client/transaction-run.ts): loaded with the first transaction. */
// The vault's own fields (name, port, lifecycle, openTransactions, kvs, columnsApi) are spread into the host:
// naming each one cost page bytes (test/browser/cold-start.spec.ts).
const transactionCode = new LazyModule('the transaction code', () => import('./transaction-run.js'))

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
    super(new DomainCaller(port, null, () => this.closed, name), new Lifecycle(name))
  }

  private checkOpen(): void {
    if (this.closed || this.lifecycle.closeRequested) throw new ClosedError(`vault "${this.name}" is closed`)
  }

  private author: Promise<string> | undefined

  /** @internal Sessions run as the vault's author unless told otherwise (asked once). */
  protected override defaultUser(): Promise<string> {
    this.author ??= this.port.info().then((i) => i.author, () => '')
    return this.author
  }

  /** Name, author, description, creation time, storage kind, size in bytes and format version. */
  info(): Promise<VaultInfo> {
    return this.admit(() => this.port.info())
  }

  /**
   * Check the vault's database with SQLite's `PRAGMA integrity_check`: resolves to `['ok']` when it
   * is sound, otherwise to the problems found (one message each). Reads only.
   */
  integrityCheck(): Promise<string[]> {
    return this.admit(() => this.port.integrityCheck())
  }

  /**
   * Run `fn` as one atomic transaction: its reads see its own writes, and its writes commit
   * together once `fn` resolves (durably, with strict durability), or not at all when it throws.
   * Other writes of this vault wait until it ends; keep it short. Returns what `fn` returns.
   *
   * `close()` while `fn` runs: the transaction is rolled back and rejects with ClosedError (its
   * commit had not been asked for: nothing of it is applied); a commit already under way completes
   * and close() waits for it.
   */
  transaction<T>(fn: (tx: VaultTransaction) => Promise<T> | T): Promise<T> {
    if (this.lifecycle.closeRequested) return Promise.reject(this.lifecycle.closedError())
    return transactionCode.get().then(({ runTransaction }) =>
      runTransaction({ ...(this as unknown as Pick<TransactionHost<VaultTransaction>, 'name' | 'port' | 'lifecycle' | 'openTransactions' | 'kvs' | 'columnsApi'>), domains: (txId, calls) => new VaultTransaction(this.caller.withTransaction(txId), calls), kvCallsIssued }, fn),
    )
  }
  private readonly openTransactions = new Map<string, () => void>()

  /** Write a fresh image and start a new log now (normally automatic). */
  checkpoint(): Promise<void> {
    return this.admit(() => this.port.checkpoint())
  }

  /**
   * Compact the vault: SQLite's VACUUM, then a checkpoint, so the fresh image is the compacted
   * database and the log starts empty. Resolves to the bytes of image plus log before and after.
   * Other writes wait while it runs. UnsupportedError on a read-only handle.
   */
  optimize(): Promise<OptimizeResult> {
    return this.admit(() => this.port.optimize())
  }

  /** @internal */
  protected override storeOptimize(): () => Promise<OptimizeResult> {
    return () => this.optimize()
  }

  /**
   * SQL over the whole vault (DuckDB, downloaded on first use): `vault.sql(text, { params, signal,
   * timeoutMs })` or the tagged template ``vault.sql`SELECT … ${x}` `` (each value a bound
   * parameter). Resolves to an Arrow Table. Read-only; sees every write acknowledged before it.
   * Relations and types: docs/sql.md.
   */
  sql(text: string, options?: SqlOptions): Promise<Table>
  sql(strings: TemplateStringsArray, ...values: SqlParam[]): Promise<Table>
  sql(first: string | TemplateStringsArray, ...rest: unknown[]): Promise<Table> {
    return this.admit(async () => (await sqlClient()).vaultSql(this.caller, first, rest))
  }

  /**
   * A query's result, or a whole relation by name (`'kv'`, `'items."runs"'`), as a Parquet file
   * (zstd pages), written offline by the same writer as the store's exports. Options: the query's
   * `params`, `signal`, `timeoutMs`, and `parquet` (writer options).
   */
  exportParquet(queryOrRelation: string, options?: ExportParquetOptions): Promise<Uint8Array> {
    return this.admit(async () => (await sqlClient()).vaultExportParquet((text, o) => this.sql(text, o), this.caller, queryOrRelation, options))
  }

  /**
   * Bring a Parquet file (from pandas, polars, DuckDB…) into the vault: by default as a new
   * materialised instance of the versioned table `name` (created when missing); with
   * `{ into: 'records' }` appended to the record list `name` (created with the file's columns).
   */
  importParquet(name: string, bytes: Uint8Array | ArrayBuffer, options?: ImportParquetOptions): Promise<ImportParquetResult> {
    return this.admit(async () => (await sqlClient()).importParquet({ tables: this.tables, lists: this.lists }, name, bytes, options))
  }

  /** A notebook database client over {@link sql} (Observable's DatabaseClient shape: docs/sql.md). */
  databaseClient(): DatabaseClient {
    return lazyDatabaseClient(
      (text, options) => this.sql(text, options),
      () => this.admit(async () => (await sqlClient()).sqlRelations(this.caller)),
    )
  }

  /** The processes client itself (its code loads on first use); users get a facade of it (see `processes`). */
  private readonly processesClient: Processes = lazyProcesses(this.caller, randomId())
  private readonly watchStops = new Set<() => void>()

  /** Processes and signals: start, pause, resume, stop, active, completed (docs/processes.md). */
  get processes(): Processes {
    // A paused process's checkpoint waits for someone else: close() does not wait for it.
    return this.handOut(this.processesClient, { handles: ['start', 'adopt'], handleOptions: () => ({ untracked: ['checkpoint'] }) })
  }

  private vaultTablesContext: TablesContext | undefined
  private lockTimeoutMs = 10_000

  /** @internal */
  protected override tablesContext(): TablesContext {
    // The processes client itself, not the facade handed to users: a table operation issued before
    // close() tracks its process (and ends it) after close() was called; the facade would refuse that
    // (docs/opening.md, "What close() drains").
    return (this.vaultTablesContext ??= { caller: this.caller, processes: this.processesClient, holder: this.processesClient.holder, lockTimeoutMs: () => this.lockTimeoutMs })
  }

  /** The vault's structure: code modules, tables, their instances, builders and (with `artifacts: true`) artifacts; `text` renders it. */
  tree(options: TreeOptions = {}): Promise<VaultTreeResult> {
    return this.admit(async () => {
      const info = await this.port.info()
      const { vaultTree } = await tablesModule()
      return vaultTree(this.caller, this.name, info.description, options)
    })
  }

  /** @internal How exportVault reaches the engine's archive domain (src/client/archive.ts). */
  get _domainCaller(): DomainCaller {
    return this.caller
  }

  /**
   * @internal What openVault does once the vault is open: the lock wait of table operations and,
   * with `restart`, recovery of crashed processes and resumption of the table operations they left.
   */
  async _afterOpen(options: { lockTimeoutMs?: number; restart?: boolean }): Promise<void> {
    if (options.lockTimeoutMs !== undefined) this.lockTimeoutMs = options.lockTimeoutMs
    if (options.restart) {
      try {
        await this.processes.recover()
        await this.tables._restart()
      } catch (err) {
        // The caller gets no handle to close: left open, the vault stayed open in this process
        // (Node's deleteVault and importVault refused it; a tab kept leading it).
        await this.close().catch(() => {})
        throw err
      }
    }
  }

  /**
   * Be told when the vault changes: commits made here and, above all, elsewhere (another tab,
   * worker or Node process). `filter` narrows it (`{ domains: ['kv'], kvNamespaces: ['settings'],
   * externalOnly: true }`). Resolves once watching (every later change is reported) to the function
   * that stops it.
   */
  async watch(filter: WatchFilter | ((change: ChangeEvent) => void), callback?: (change: ChangeEvent) => void): Promise<() => void> {
    this.checkOpen()
    // The callback's check and the watch's bookkeeping load with the watch's code (docs/cold-start.md).
    return (await import('../domains/changes/client/watch.js')).watchVault(this.caller, filter, callback, () => this.closed, this.watchStops)
  }

  /**
   * Close the vault. Every call issued before it (awaited or not) runs to its end first: its
   * write is applied and its promise settles; values buffered by `withCache` are written. A
   * transaction whose callback is still running is rolled back (ClosedError); one already
   * committing completes. Every call issued after close() rejects with ClosedError and changes
   * nothing. Then a checkpoint if worthwhile, and the files are released. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle.requestClose()
      for (const stop of [...this.watchStops]) stop()
      // A cache whose write-out fails at close: those writes are lost, so close() rejects with the
      // error (it resolved, as though they were written) once the rest is written and closed.
      let lost: unknown
      try {
        // Rolled back first: a call issued before close() may be waiting for one of them to end (a
        // write through `vault` inside the callback), and close() would wait for the engine's timeout.
        for (const [txId, abandon] of [...this.openTransactions]) {
          abandon()
          await this.port.rollbackTransaction(txId).catch(() => {})
        }
        await this.lifecycle.drained()
        this.processesClient._close()
        // Values still buffered by withCache are written before the engine goes away.
        for (const kv of this.kvs.values()) await kv._closeCache().catch((e) => (lost ??= e))
        await this.columnsApi?.flush().catch((e) => (lost ??= e))
      } finally {
        this.closed = true
        try {
          await this.port.close()
        } finally {
          this.onClose()
        }
      }
      if (lost) throw lost
    })()
    return this.closing
  }

  /**
   * `await using vault = await openVault(name)`: the vault is closed (as by {@link close}) when the
   * block ends, also when it throws.
   */
  [asyncDispose](): Promise<void> {
    return this.close()
  }

  /** True once close() was called. */
  get isClosed(): boolean {
    return this.closed || this.lifecycle.closeRequested
  }
}
