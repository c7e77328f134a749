import { concatBytes } from '../../../codec/bytes.js'
import { CorruptionError, InvalidArgumentError, NetworkError, StoppedError, UnsupportedError, VaultError } from '../../../errors/errors.js'
import { emptyDuckDbFile } from './empty-database.js'
import { beginStep, bounded } from './start-steps.js'

/**
 * duckdb-wasm's synchronous ("blocking") build, loaded on first use. It runs on the engine's own
 * thread: the vault's worker in a browser (never the page), in-process on Node. A query runs as a
 * pending query polled step by step, yielding to the event loop between steps, so that `cancel`,
 * `timeoutMs` and `signal` can interrupt it. Extension autoload and autoinstall are off (offline
 * they would hang), and after the vault's relations are set up the configuration is locked and file
 * access is off: a query reads the vault's relations and nothing else.
 */

type DuckModule = typeof import('@duckdb/duckdb-wasm/blocking')
type Bindings = Awaited<ReturnType<DuckModule['createDuckDB']>>
type Connection = ReturnType<Bindings['connect']>

/** The connection's handle in the bindings (duckdb-wasm keeps it in a protected field). */
function connectionId(c: Connection): number {
  return (c as unknown as { _conn: number })._conn
}

/** Where the DuckDB files are: in a browser, the URL of the folder holding duckdb-*.wasm. */
export interface DuckDbLocation {
  assetBase?: string
}

/**
 * How results become Arrow. DECIMAL and HUGEINT (sum over BIGINT) are sent as DuckDB makes them,
 * 128-bit integers, and made doubles by the client (sql-numbers.ts): duckdb-wasm's own cast to
 * double turned −2^127 positive and left a DECIMAL inside a list or struct as garbage.
 */
const QUERY_CONFIG = { castDecimalToDouble: false, castBigIntToDouble: false, castTimestampToDate: false }

/** Settings every connection gets before anything else runs. */
// checkpoint_threshold: DuckDB checkpoints after a write that grew its storage past the threshold,
// and a checkpoint compresses every table: measured 60–200 ms for a catalog change after a 1M-row
// load, on the path of a refresh that must take milliseconds. The relations are derived data in
// memory: they are never checkpointed.
const OFFLINE_SETTINGS = "SET autoload_known_extensions=false; SET autoinstall_known_extensions=false; SET checkpoint_threshold='1TB'"

/** Turn a DuckDB error into the vault's typed error (the message is DuckDB's). */
export function duckDbError(err: unknown): VaultError {
  if (VaultError.isVaultError(err)) return err
  const message = duckDbMessage((err as Error)?.message ?? String(err))
  // A relation that could not be built raises its own message (relation-store.ts): said as it is.
  const failed = /^Invalid Input Error: (sql: the relation [\s\S]*)$/.exec(message)?.[1]
  if (failed) {
    // The vault's data behind it could not be read (relation-store.ts): that error's class.
    const unreadable = /could not be made from the vault's data \((CorruptionError|NetworkError): /.exec(failed)?.[1]
    return unreadable === 'CorruptionError' ? new CorruptionError(failed, { cause: err }) : unreadable === 'NetworkError' ? new NetworkError(failed, { cause: err }) : new InvalidArgumentError(failed, { cause: err })
  }
  const extension = /exists in the (\w+) extension/.exec(message)?.[1] ?? /extension "?(\w+)"? is not (?:loaded|installed)/i.exec(message)?.[1]
  if (extension) return new UnsupportedError(`sql: the query needs DuckDB's ${extension} extension, which labvault does not load (it would be downloaded at run time): ${firstLine(message)}`, { cause: err })
  if (/^Permission Error/.test(message)) return new InvalidArgumentError(`sql: a query reads only the vault's relations, not files or URLs: ${firstLine(message)}`, { cause: err })
  if (/^(Parser|Catalog|Binder|Conversion|Invalid Input|Constraint|Out of Range|Not implemented|Syntax|Dependency) Error/i.test(message)) return new InvalidArgumentError(`sql: ${message}`, { cause: err })
  return new VaultError(`sql: ${message}`, { cause: err })
}

/**
 * DuckDB's message as text: some errors arrive as JSON (`{"exception_type":"Parser", …}`). The
 * `LINE n:` excerpt is dropped: it quotes the query as wrapped for read-only use, not as written.
 */
function duckDbMessage(raw: string): string {
  let message = raw
  if (raw.startsWith('{')) {
    try {
      const parsed = JSON.parse(raw) as { exception_type?: string; exception_message?: string }
      if (parsed.exception_message) message = `${parsed.exception_type ?? 'DuckDB'} Error: ${parsed.exception_message}`
    } catch {
      // Not JSON after all: keep it as it is.
    }
  }
  return message.replace(/\n+LINE \d+:[\s\S]*$/, '').trim()
}

function firstLine(message: string): string {
  return message.split('\n')[0]!
}

function onNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined'
}

/**
 * Does this engine run WebAssembly exception handling (then DuckDB's `eh` build, faster than
 * `mvp`)? A module of one function holding `try … catch_all … end` validates only where it does:
 * the same test duckdb-wasm makes to pick its bundle.
 */
function wasmExceptions(): boolean {
  try {
    return WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 8, 1, 6, 0, 6, 0x40, 0x19, 0x0b, 0x0b]))
  } catch {
    return false
  }
}

/** The URL (browser) or path (Node) of one of DuckDB's wasm files. */
function wasmFile(location: DuckDbLocation, name: string): string {
  if (onNode()) return decodeURIComponent(new URL(import.meta.resolve(`@duckdb/duckdb-wasm/dist/${name}`)).pathname)
  if (!location.assetBase) throw new UnsupportedError('sql: the DuckDB wasm files have no location: pass assetBase to openVault')
  return new URL(name, location.assetBase).href
}

/**
 * DuckDB's compiled wasm modules by URL, kept for the life of the worker (or Node process): a
 * second vault, or the same vault opened again, instantiates the module compiled the first time
 * instead of fetching and compiling 34 MB again. In a browser the module is compiled while it
 * downloads (compileStreaming), off the engine's thread.
 */
const compiled = new Map<string, Promise<WebAssembly.Module>>()

/** The Node builtin `fs`, without a `node:` import (this module is bundled for the browser worker too). */
function nodeFs(): typeof import('node:fs') | undefined {
  return (process as unknown as { getBuiltinModule?(name: string): typeof import('node:fs') }).getBuiltinModule?.('node:fs')
}

function canCompile(): boolean {
  return onNode() ? nodeFs() !== undefined : typeof WebAssembly.compileStreaming === 'function' && typeof fetch === 'function'
}

function compileWasm(url: string): Promise<WebAssembly.Module> {
  let module = compiled.get(url)
  if (!module) {
    if (onNode()) {
      const fs = nodeFs()
      if (!fs) return Promise.reject(new Error('no node:fs'))
      module = fs.promises.readFile(url).then((bytes) => WebAssembly.compile(bytes))
    } else {
      module = WebAssembly.compileStreaming(fetch(url, { credentials: 'same-origin' }))
    }
    compiled.set(url, module)
    // A failed download is not remembered: the next query tries again.
    module.catch(() => compiled.delete(url))
  }
  return module
}

/**
 * Start fetching and compiling DuckDB's wasm now (the first `sql` call does, before importing
 * DuckDB's JS), so that the download and compile overlap the rest of the start. Never throws:
 * a failure shows when the module is used.
 */
export function prefetchDuckDb(location: DuckDbLocation): void {
  if (!canCompile()) return
  try {
    compileWasm(wasmFile(location, wasmExceptions() ? 'duckdb-eh.wasm' : 'duckdb-mvp.wasm')).catch(() => {})
  } catch {
    // No location: the start reports it.
  }
}

/** Where a DuckDB start spent its time (ms), for the bench. */
export interface StartTimes {
  importJs: number
  wasm: number
  /** Opening the database (its file's access handles included). */
  open: number
}

/** Times of the last start in this worker / process. */
export let lastStart: StartTimes | undefined

async function loadBindings(location: DuckDbLocation): Promise<Bindings> {
  if (!onNode() && typeof (globalThis as { document?: unknown }).document !== 'undefined') {
    throw new UnsupportedError('sql: DuckDB runs only in the vault\'s worker, never on the page thread: open the vault without `worker: false` (and without a custom storage object) to use SQL')
  }
  const t0 = performance.now()
  prefetchDuckDb(location)
  let duck: DuckModule
  const imported = beginStep("importing DuckDB's code")
  try {
    duck = await import('@duckdb/duckdb-wasm/blocking')
  } catch (err) {
    throw new UnsupportedError(`sql: DuckDB (@duckdb/duckdb-wasm) could not be loaded: ${(err as Error).message}`, { cause: err })
  } finally {
    imported()
  }
  const t1 = performance.now()
  const runtime = (duck as { NODE_RUNTIME?: unknown }).NODE_RUNTIME ?? (duck as { BROWSER_RUNTIME?: unknown }).BROWSER_RUNTIME
  try {
    const bundles = { mvp: { mainModule: wasmFile(location, 'duckdb-mvp.wasm'), mainWorker: '' }, eh: { mainModule: wasmFile(location, 'duckdb-eh.wasm'), mainWorker: '' } }
    const db = await duck.createDuckDB(bundles, new duck.VoidLogger(), runtime as never)
    // Instantiate the module compiled (or being compiled) by compileWasm, not a fresh download.
    // (The browser's bindings name it mainModuleURL, Node's mainModulePath.)
    const named = db as unknown as { mainModuleURL?: string; mainModulePath?: string }
    const url = named.mainModuleURL ?? named.mainModulePath
    // Where the module cannot be compiled here (no URL, a Node without process.getBuiltinModule),
    // duckdb-wasm loads it its own way.
    if (typeof url !== 'string' || !canCompile()) {
      await db.instantiate()
      lastStart = { importJs: t1 - t0, wasm: performance.now() - t1, open: 0 }
      return db
    }
    let failed: (err: unknown) => void = () => {}
    const wasmFailed = new Promise<never>((_, reject) => (failed = reject))
    // The download and compile (network) are not bounded; what follows them, local work, is (start-steps.ts).
    const module = compileWasm(url)
    const downloaded = beginStep(`downloading and compiling ${url.slice(url.lastIndexOf('/') + 1)}`)
    module.then(downloaded, downloaded)
    ;(db as unknown as { instantiateWasm: InstantiateWasm }).instantiateWasm = (imports, done) => {
      // What duckdb-wasm's own instantiateWasm does first: its file system calls find their runtime there.
      ;(globalThis as { DUCKDB_RUNTIME?: unknown }).DUCKDB_RUNTIME = (db as unknown as { _runtime: unknown })._runtime
      module
        .then(async (compiledModule) => done(await WebAssembly.instantiate(compiledModule, imports), compiledModule))
        .catch((err: unknown) => failed(err))
      return []
    }
    // (emscripten never settles instantiate() when the wasm cannot be instantiated: race it.)
    const instantiated = Promise.race([db.instantiate(), wasmFailed])
    instantiated.catch(() => {})
    await Promise.race([module.then(() => bounded(instantiated, "instantiating DuckDB's wasm")), wasmFailed])
    lastStart = { importJs: t1 - t0, wasm: performance.now() - t1, open: 0 }
    return db
  } catch (err) {
    // A stalled step's error already says what it is (start-steps.ts).
    if (err instanceof UnsupportedError) throw err
    throw new UnsupportedError(`sql: DuckDB could not start: ${(err as Error).message}`, { cause: err })
  }
}

type InstantiateWasm = (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => unknown

/** How a running query is stopped, and why. */
export interface QueryControl {
  /** Checked between steps: a reason to stop (the error to throw), or undefined to go on. */
  stopped(): VaultError | undefined
}

/** One DuckDB database and connection for one engine. */
export class DuckDbRuntime {
  private constructor(
    private readonly db: Bindings,
    private readonly conn: Connection,
    /** The cache file's access handles: closed by close() itself, so the file is free once it returns. */
    private readonly handles?: OpfsHandles,
  ) {}

  /** Start DuckDB: in memory, or on a database file (`path`, `opfs://…`) that caches the relations. */
  static async open(location: DuckDbLocation, path?: string): Promise<DuckDbRuntime> {
    // An OPFS database: its file's and WAL's access handles are opened while DuckDB loads.
    const handlesOpening = path !== undefined ? openOpfsHandles(path) : undefined
    handlesOpening?.catch(() => {})
    let db: Bindings
    try {
      db = await loadBindings(location)
    } catch (err) {
      // (Not awaited: an open of the handles that stalls must not hold the error back.)
      handlesOpening?.then(closeHandles, () => {})
      throw err
    }
    const t = performance.now()
    let opened: (() => void) | undefined
    let handles: OpfsHandles | undefined
    try {
      if (path !== undefined) {
        handles = await bounded(handlesOpening!, "opening the cache file's OPFS access handles", closeHandles)
        for (const [name, handle] of handles) db.registerFileHandle(name, handle, 3 /* BROWSER_FSACCESS */, true)
        // (Synchronous: named for the errors of other steps, it cannot be bounded.)
        opened = beginStep('opening the database')
        db.open({ path, accessMode: 3 /* READ_WRITE */, query: QUERY_CONFIG })
      } else {
        db.open({ path: ':memory:', query: QUERY_CONFIG })
      }
    } catch (err) {
      closeBindings(db)
      closeHandles(handles)
      if (path === undefined) throw new UnsupportedError(`sql: DuckDB could not start: ${(err as Error).message}`, { cause: err })
      throw err
    } finally {
      opened?.()
    }
    if (lastStart) lastStart.open = performance.now() - t
    const conn = db.connect()
    conn.query(OFFLINE_SETTINGS)
    return new DuckDbRuntime(db, conn, handles)
  }

  /** Rows of one of the vault's own queries, as plain objects. */
  rows(sql: string): Record<string, unknown>[] {
    try {
      return this.conn.query(sql).toArray().map((r) => ({ ...(r as { toJSON(): Record<string, unknown> }).toJSON() }))
    } catch (err) {
      throw duckDbError(err)
    }
  }

  /** Run statements of the vault's own (setup, relation refresh); not for users' text. */
  exec(sql: string): void {
    try {
      this.conn.query(sql)
    } catch (err) {
      throw duckDbError(err)
    }
  }

  /** Load an Arrow IPC stream into a table (created, or appended to). */
  insertIpc(ipc: Uint8Array, schema: string, name: string, create: boolean): void {
    try {
      this.conn.insertArrowFromIPCStream(ipc, { schema, name, create })
    } catch (err) {
      throw duckDbError(err)
    }
  }

  /** The rows of one of the vault's own queries as one Arrow IPC stream, at once (no turn of the event loop). */
  ipc(sql: string): Uint8Array {
    const id = connectionId(this.conn)
    try {
      let header = this.db.startPendingQuery(id, sql, false)
      while (header === null) header = this.db.pollPendingQuery(id)
      return this.fetchAll(id, header)
    } catch (err) {
      throw duckDbError(err)
    }
  }

  /**
   * Refuse a user's query text unless DuckDB's own parser reads it as exactly one statement.
   * duckdb-wasm's pending queries and `conn.query` run every statement of a text, so a text like
   * `SELECT 1); UPDATE kv …; SELECT * FROM (SELECT 1` would escape the read-only wrapping
   * (sql-statement.ts). DuckDB's prepare (`Connection::Prepare`) refuses a text of several
   * statements; it parses, binds and plans, but runs nothing. A lexer of our own could disagree
   * with DuckDB's about where a string, quoted name, dollar-quoted string or comment ends: DuckDB
   * deciding leaves nothing to disagree about. (A PIVOT without an IN list is several statements
   * to DuckDB: it creates an ENUM type first, a write, and is refused too.)
   */
  checkOneStatement(sql: string, ownText?: string): void {
    const id = connectionId(this.conn)
    // Inside a transaction of our own, rolled back after: a prepare that fails to bind (an unknown
    // relation) in WebKit left the transaction DuckDB began for it open, and every later statement
    // on the connection failed ("cannot start a transaction within a transaction"). Within an
    // explicit transaction DuckDB begins none, and whatever state the failure leaves ends here.
    this.exec('BEGIN TRANSACTION')
    try {
      let statement: number
      try {
        statement = this.db.createPrepared(id, sql)
      } catch (err) {
        const error = duckDbError(err)
        if (/Cannot prepare multiple statements|No statement to prepare/.test(error.message)) {
          throw new InvalidArgumentError(
            'sql: a query must be exactly one statement that reads (SELECT, WITH, VALUES, …); this text holds several (a `;` outside quotes and comments ends one; a PIVOT needs an IN list). SQL over the vault is read-only',
            { cause: err },
          )
        }
        throw (ownText !== undefined && /^sql: Parser Error/.test(error.message) && this.ownParserError(id, ownText)) || error
      }
      try {
        this.db.closePrepared(id, statement)
      } catch {
        // Nothing ran: a statement left open is freed with the connection.
      }
    } finally {
      this.exec('ROLLBACK')
    }
  }

  /**
   * The parser's error for the caller's own text, when it has one: the wrapped text's error points
   * at the wrapping (every query cut short read "syntax error at or near \")\"", the subquery's own
   * parenthesis) where the caller's text says "at end of input" or names the token it stumbled on.
   * Only parsed and planned (prepare runs nothing; the caller's transaction is rolled back).
   */
  private ownParserError(id: number, ownText: string): VaultError | undefined {
    try {
      this.db.closePrepared(id, this.db.createPrepared(id, ownText))
      return undefined
    } catch (err) {
      const error = duckDbError(err)
      return /^sql: Parser Error/.test(error.message) ? error : undefined
    }
  }

  /** Files, URLs and settings are out of reach of users' queries from now on (cannot be undone). */
  lockDown(): void {
    this.exec('SET enable_external_access=false; SET lock_configuration=true')
  }

  /**
   * Run a query as a pending query, step by step; between steps the event loop runs and `control`
   * may stop it (DuckDB cancels it). Resolves to the result as an Arrow IPC stream.
   */
  async run(sql: string, control: QueryControl): Promise<Uint8Array> {
    return this.fetch(await this.start(sql, control), control)
  }

  /**
   * The first half of {@link run}: the query runs to its end, and its result's schema (an Arrow IPC
   * schema message) is returned before any row is fetched, for the caller to look at. Its rows are
   * then read with {@link fetch}, or dropped by the connection's next query.
   */
  async start(sql: string, control: QueryControl): Promise<Uint8Array> {
    const id = connectionId(this.conn)
    let header: Uint8Array | null
    try {
      header = this.db.startPendingQuery(id, sql, false)
      let slice = performance.now()
      while (header === null) {
        // Poll for a slice of time, then let the event loop run (a cancel, a timer): one yield
        // per poll cost ~1 ms each (setTimeout), a third of a 1M-row GROUP BY.
        if (performance.now() - slice > POLL_SLICE_MS) {
          await yieldToEvents()
          slice = performance.now()
        }
        const stop = control.stopped()
        if (stop) {
          this.db.cancelPendingQuery(id)
          throw stop
        }
        header = this.db.pollPendingQuery(id)
      }
    } catch (err) {
      throw duckDbError(err)
    }
    return header
  }

  /** The second half of {@link run}: the rows of the query {@link start} ran, after its schema, as one IPC stream. */
  fetch(header: Uint8Array, control: QueryControl): Promise<Uint8Array> {
    return this.fetchStoppable(connectionId(this.conn), header, control)
  }

  /**
   * Fetch a materialised result's batches as {@link fetchAll} does, with `control` looked at
   * between batches (and the event loop let run every {@link POLL_SLICE_MS}, for a cancel): a 3M-row
   * result took seconds to fetch after its query ended, and its timeoutMs was not looked at.
   */
  private async fetchStoppable(id: number, header: Uint8Array, control: QueryControl): Promise<Uint8Array> {
    const parts: Uint8Array[] = [header]
    let slice = performance.now()
    try {
      for (;;) {
        const stop = control.stopped()
        if (stop) {
          // Drop the rest of the result (the connection's next query would replace it anyway).
          try {
            this.db.cancelPendingQuery(id)
          } catch {
            // Nothing pending: the result goes with the next query.
          }
          throw stop
        }
        let chunk: Uint8Array | null
        do chunk = this.db.fetchQueryResults(id)
        while (chunk === null)
        if (chunk.length === 0) break
        parts.push(chunk)
        if (performance.now() - slice > POLL_SLICE_MS) {
          await yieldToEvents()
          slice = performance.now()
        }
      }
    } catch (err) {
      throw duckDbError(err)
    }
    const stop = control.stopped()
    if (stop) throw stop
    return withEndOfStream(parts)
  }

  /** The result is materialised: fetch its batches and join them into one IPC stream. */
  private fetchAll(id: number, header: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [header]
    for (;;) {
      let chunk: Uint8Array | null
      // null: "try again" (a streaming result's next batch is not ready); empty: the end.
      do chunk = this.db.fetchQueryResults(id)
      while (chunk === null)
      if (chunk.length === 0) break
      parts.push(chunk)
    }
    return withEndOfStream(parts)
  }

  close(): void {
    try {
      // A database file is left whole: what the WAL holds goes into it (in memory: nothing to do).
      this.conn.query('CHECKPOINT')
    } catch {
      // Already failing: the file is derived data, checked when it is opened next.
    }
    try {
      this.conn.close()
    } catch {
      // Closing is best effort: the wasm memory goes with the engine.
    }
    closeBindings(this.db)
    // DuckDB's dropFiles closes the handles it knows of; closed here too (a no-op then), so that
    // the next worker on this vault (a reopen, the next leader tab) gets them, whatever DuckDB did.
    closeHandles(this.handles)
  }
}

/** An OPFS database file's and its WAL's synchronous access handles, by the path DuckDB knows each by. */
type OpfsHandles = [path: string, handle: FileSystemSyncAccessHandle][]

/**
 * Open synchronous access handles on an OPFS database and its WAL (before DuckDB is started: the
 * two run side by side). A new (empty) database file is first seeded with an empty database:
 * DuckDB needs the handle before it opens the file, and refuses an empty file as "not a valid
 * DuckDB database file". When a handle cannot be had (another worker holds it), none is kept.
 */
async function openOpfsHandles(path: string): Promise<OpfsHandles> {
  if (!path.startsWith('opfs://')) throw new UnsupportedError(`sql: a DuckDB file must be in OPFS, not ${path}`)
  const parts = path.slice('opfs://'.length).split('/')
  const fileName = parts.pop()!
  let dir = await navigator.storage.getDirectory()
  for (const part of parts) dir = await dir.getDirectoryHandle(part, { create: true })
  const handles: OpfsHandles = []
  try {
    for (const name of [fileName, `${fileName}.wal`]) {
      const handle = await whenFree(await dir.getFileHandle(name, { create: true }))
      handles.push([`opfs://${[...parts, name].join('/')}`, handle])
      if (name === fileName && handle.getSize() === 0) {
        handle.write(emptyDuckDbFile(), { at: 0 })
        handle.flush()
      }
    }
  } catch (err) {
    closeHandles(handles)
    throw err
  }
  return handles
}

/** How long an access handle another worker holds is waited for (a closed vault's worker lets it go as it ends). */
const BUSY_WAIT_MS = 3000

/**
 * A synchronous access handle on `file`, waiting up to {@link BUSY_WAIT_MS} while another worker
 * holds one (NoModificationAllowedError): a vault closed and opened again at once starts its new
 * worker while the old one may still be ending, and the file is not damaged for that.
 */
async function whenFree(file: FileSystemFileHandle): Promise<FileSystemSyncAccessHandle> {
  const until = performance.now() + BUSY_WAIT_MS
  // Named once the file is found held, so that a query stopped meanwhile says what the start
  // waits on ("…, while DuckDB was starting (waiting for the cache file, which another worker holds)").
  let waiting: (() => void) | undefined
  try {
    for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
      try {
        return await file.createSyncAccessHandle()
      } catch (err) {
        if ((err as { name?: unknown } | null)?.name !== 'NoModificationAllowedError' || performance.now() + pause > until) throw err
        waiting ??= beginStep('waiting for the cache file, which another worker holds')
        await new Promise((resolve) => setTimeout(resolve, pause))
      }
    }
  } finally {
    waiting?.()
  }
}

function closeHandles(handles: OpfsHandles | undefined): void {
  for (const [, handle] of handles ?? []) {
    try {
      handle.close()
    } catch {
      // Already closed.
    }
  }
}

/** Drop DuckDB and the files it registered. */
function closeBindings(db: Bindings): void {
  try {
    db.reset()
  } catch {
    // Already gone.
  }
  try {
    db.dropFiles()
  } catch {
    // No files, or the runtime has none to drop.
  }
}

/** How long a query runs between two turns of the event loop (how soon a cancel is seen). */
const POLL_SLICE_MS = 25

/** Let other calls (a cancel, a timer) run: a macrotask, not a microtask. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

/** The pieces of an Arrow IPC stream, closed by the format's end-of-stream marker (continuation, zero length). */
function withEndOfStream(parts: Uint8Array[]): Uint8Array {
  return concatBytes([...parts, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])])
}
