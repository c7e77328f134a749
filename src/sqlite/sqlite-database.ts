import initSqlJs from 'sql.js'
import type { Database, SqlJsStatic, Statement } from 'sql.js'
import { CorruptionError, InvalidArgumentError, UnsupportedError, VaultError } from '../errors/errors.js'
import { checkWellFormed } from '../codec/checks.js'
import { keepingByteOrderMarks } from '../codec/keep-bom.js'

/** A value SQLite stores: what statements take as parameters and return in rows. */
export type SqlValue = number | bigint | string | Uint8Array | null

/**
 * One logged change: consecutive runs of the same statement are grouped, so a 100k-row `setMany`
 * costs its parameters, not 100k copies of the SQL text.
 */
export type StatementGroup = [sql: string, runs: SqlValue[][]]

/** Where sql.js finds its .wasm: a URL (browser) or the bytes themselves. */
export interface SqlJsLocation {
  wasmUrl?: string
  wasmBinary?: ArrayBuffer | Uint8Array
  /**
   * The wasm of `wasmUrl`, compiled ahead (the worker starts compiling it before the engine's code
   * has loaded: src/worker/worker-boot.ts). Used when it compiled; when it failed (undefined or a
   * rejection) sql.js loads `wasmUrl` itself, and reports a bad one as usual.
   */
  wasmModule?: Promise<WebAssembly.Module | undefined>
}

let sqlJsPromise: Promise<SqlJsStatic> | undefined

/** Page size of new vault images (docs/format.md, "Image"). */
export const PAGE_SIZE = 16384

/**
 * Load sql.js once per realm (worker or Node process). A load that failed (a wasm that could not be
 * fetched: a network error, a 404 while a deploy is half done) is not kept: the next call tries again.
 */
export function loadSqlJs(location: SqlJsLocation = {}): Promise<SqlJsStatic> {
  sqlJsPromise ??= initFrom(location).catch((err: unknown) => {
    sqlJsPromise = undefined
    throw wasmLoadError(err, location)
  })
  return sqlJsPromise
}

/**
 * sql.js keeps the promise of its first initialisation for good, a failed one too: were it to fetch
 * the wasm itself, one failed fetch would fail every later open of the realm. So the wasm is
 * fetched and compiled here (where a failure is retried by the next call), and sql.js only
 * instantiates the compiled module. Node without a URL: sql.js reads its own file (no network).
 * sql.js makes the TextDecoder it decodes every SQLite text with synchronously inside initSqlJs (its
 * promise's executor), so each call is wrapped to keep a leading U+FEFF (codec/keep-bom.ts).
 */
async function initFrom(location: SqlJsLocation): Promise<SqlJsStatic> {
  const compiled = await compiledWasm(location)
  if (compiled) {
    // sql.js (Emscripten) instantiates through `instantiateWasm` when given: the compiled module is
    // instantiated with its imports, no second fetch or compile. A failure there must reject.
    let fail!: (err: unknown) => void
    const failed = new Promise<never>((_, reject) => (fail = reject))
    const init = keepingByteOrderMarks(() =>
      initSqlJs({
        instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
          WebAssembly.instantiate(compiled, imports).then(done, fail)
          return {}
        },
      } as Parameters<typeof initSqlJs>[0]),
    )
    return Promise.race([init, failed])
  }
  return keepingByteOrderMarks(() =>
    initSqlJs({
      ...(location.wasmBinary ? { wasmBinary: location.wasmBinary as ArrayBuffer } : {}),
      ...(location.wasmUrl ? { locateFile: () => location.wasmUrl! } : {}),
    }),
  )
}

/**
 * The wasm compiled: the module compiled ahead when it compiled, else `wasmBinary`, else fetched
 * from `wasmUrl` (http, https, or relative in a page or worker). Undefined where sql.js must find
 * the file itself (Node: no URL, or a file: URL).
 */
async function compiledWasm(location: SqlJsLocation): Promise<WebAssembly.Module | undefined> {
  const ahead = location.wasmModule ? await location.wasmModule.catch(() => undefined) : undefined
  if (ahead) return ahead
  if (location.wasmBinary) return WebAssembly.compile(location.wasmBinary as BufferSource)
  const url = location.wasmUrl
  if (url === undefined || typeof fetch !== 'function' || /^file:/i.test(url)) return undefined
  const response = await fetch(url)
  if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`)
  return WebAssembly.compile(await response.arrayBuffer())
}

/**
 * A wasm that cannot be fetched or compiled (a wrong `wasmUrl`: an HTML 404 page is no wasm) fails
 * inside sql.js with a raw CompileError, TypeError or "Aborted(…)": name the option instead.
 */
function wasmLoadError(err: unknown, location: SqlJsLocation): Error {
  if (VaultError.isVaultError(err)) return err as Error
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  if (location.wasmUrl) {
    return new InvalidArgumentError(`sql.js's wasm could not be loaded from wasmUrl ${JSON.stringify(location.wasmUrl)} (${detail}); point wasmUrl (or assetBase) at labvault's sql-wasm.wasm`, { cause: err })
  }
  return new UnsupportedError(`sql.js's wasm could not be loaded (${detail}); pass wasmUrl (or assetBase) to say where labvault's sql-wasm.wasm is`, { cause: err })
}

/**
 * sql.js with a statement cache and a recorder. Every change made through {@link run} while a
 * recording is open is captured (SQL + parameters) so the persistence layer can append it to the
 * log; replaying the captured groups on the same starting image gives the same database, because
 * every value is made in JS (no random(), no now() in SQL).
 */
export class SqliteDatabase {
  private readonly statements = new Map<string, Statement>()
  private recording: StatementGroup[] | undefined
  /**
   * Increases with every change this connection sees (a statement that changed rows, a script, a
   * rollback, a replay, a new image). A cache derived from the database is valid while this is
   * unchanged, so a hot read path can skip even the query that would validate it.
   */
  changeCounter = 0

  private constructor(private db: Database) {
    this.applyPragmas()
  }

  /**
   * Open an image (or an empty database). A damaged image gives CorruptionError. `trusted`: the
   * image's bytes are known good (a new vault's template made by this build, or an image whose
   * size and CRC are those its manifest recorded), so SQLite's check (`quick_check`) is skipped.
   */
  static async open(image: Uint8Array | undefined, location?: SqlJsLocation, { trusted = false } = {}): Promise<SqliteDatabase> {
    const SQL = await loadSqlJs(location)
    let db: Database | undefined
    try {
      db = new SQL.Database(image)
      // 16 KiB pages for a new database (an image keeps the size it was made with). With SQLite's
      // default 4 KiB, a WITHOUT ROWID row over ~1 KB spills into an overflow page of its own:
      // 1 KB values took 4.5× their size. 16 KiB keeps rows up to ~4 KB inline.
      if (!image) db.exec(`PRAGMA page_size=${PAGE_SIZE}`)
      if (image && !trusted) {
        const check = db.exec('PRAGMA quick_check')
        const verdict = check[0]?.values[0]?.[0]
        if (verdict !== 'ok') throw new Error(String(verdict))
      }
      // The pragmas read the image's header: bytes that are no SQLite database fail here.
      return new SqliteDatabase(db)
    } catch (err) {
      try {
        db?.close()
      } catch {
        // Closing what failed to open: the open's own error is the one to report.
      }
      if (!image) throw err
      throw new CorruptionError(`the vault image is not a valid SQLite database: ${(err as Error).message}`, { cause: err })
    }
  }

  private applyPragmas(): void {
    // The image lives in wasm memory and durability comes from our log, so SQLite's own journal
    // only needs to support ROLLBACK: keep it in memory. EXCLUSIVE locking matters for speed: in
    // the default mode every statement re-takes the file lock and re-reads page 1 through
    // Emscripten's file system in JS (measured: a point lookup 26 µs → 3.5 µs).
    this.db.exec('PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536')
  }

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql)
    if (!stmt) {
      stmt = this.db.prepare(sql)
      this.statements.set(sql, stmt)
    }
    return stmt
  }

  /** Run a changing statement; recorded when a recording is open. Returns rows changed. */
  run(sql: string, params: SqlValue[] = []): number {
    // SQLite keeps text as UTF-8, which cannot hold a lone surrogate: sql.js would store WTF-8
    // bytes that read back as U+FFFD (and the log would record U+FFFD). Domains refuse such
    // strings with a precise message or store them as bytes; this is the last line of defence.
    for (const p of params) if (typeof p === 'string') checkWellFormed(p, 'text')
    const stmt = this.statement(sql)
    stmt.run(params as never)
    const changed = this.db.getRowsModified()
    if (changed > 0 || !isDataChange(sql)) this.changeCounter++
    // A data change that changed no row replays as a no-op: leave it out of the log.
    if (this.recording && (changed > 0 || !isDataChange(sql))) {
      const last = this.recording[this.recording.length - 1]
      if (last && last[0] === sql) last[1].push(params)
      else this.recording.push([sql, [params]])
    }
    return changed
  }

  /** Run schema SQL (several statements). Recorded as one group with no parameters. */
  execScript(sql: string): void {
    this.changeCounter++
    this.db.exec(sql)
    this.recording?.push([sql, []])
  }

  /** First row of a query, or undefined. */
  get(sql: string, params: SqlValue[] = []): SqlValue[] | undefined {
    const stmt = this.statement(sql)
    try {
      stmt.bind(params as never)
      return stmt.step() ? (stmt.get() as SqlValue[]) : undefined
    } finally {
      stmt.reset()
    }
  }

  /** All rows of a query. */
  all(sql: string, params: SqlValue[] = []): SqlValue[][] {
    const stmt = this.statement(sql)
    const rows: SqlValue[][] = []
    try {
      stmt.bind(params as never)
      while (stmt.step()) rows.push(stmt.get() as SqlValue[])
    } finally {
      stmt.reset()
    }
    return rows
  }

  /** Call `each` for every row without building an array. */
  each(sql: string, params: SqlValue[], each: (row: SqlValue[]) => void): void {
    const stmt = this.statement(sql)
    try {
      stmt.bind(params as never)
      while (stmt.step()) each(stmt.get() as SqlValue[])
    } finally {
      stmt.reset()
    }
  }

  /** Start capturing changes. */
  startRecording(): void {
    this.recording = []
  }

  /** Stop capturing and return what was captured since {@link startRecording}. */
  stopRecording(): StatementGroup[] {
    const out = this.recording ?? []
    this.recording = undefined
    return out
  }

  /** A point in the open recording that {@link rewindRecording} can return to. */
  recordingMark(): [groups: number, runsInLast: number] {
    const r = this.recording ?? []
    return [r.length, r[r.length - 1]?.[1].length ?? 0]
  }

  /** Forget what was recorded after `mark` (its statements were rolled back). */
  rewindRecording([groups, runsInLast]: [number, number]): void {
    const r = this.recording
    if (!r) return
    r.length = groups
    const last = r[groups - 1]
    if (last) last[1].length = runsInLast
  }

  /** True while a recording is open. */
  get isRecording(): boolean {
    return this.recording !== undefined
  }

  /** Apply logged groups (log replay, or another process's commits). Not recorded. */
  replay(groups: StatementGroup[]): void {
    this.changeCounter++
    for (const [sql, runs] of groups) {
      if (runs.length === 0) {
        this.db.exec(sql)
        continue
      }
      const stmt = this.statement(sql)
      for (const params of runs) stmt.run(params as never)
    }
  }

  /** Raw exec for transaction control (BEGIN, COMMIT, SAVEPOINT …). Not recorded. */
  control(sql: string): void {
    if (/ROLLBACK/i.test(sql)) this.changeCounter++
    // A cached statement: parsing BEGIN/SAVEPOINT/COMMIT anew was a visible part of a small write
    // in browsers' wasm. The empty bind resets it first, also after a failed run.
    this.statement(sql).run([])
  }

  /**
   * Rebuild the database file compactly (SQLite's VACUUM). Not recorded: the log cannot carry it,
   * so the caller writes a fresh image right after (src/engine/vault-engine.ts, `optimize`).
   */
  vacuum(): void {
    this.db.exec('VACUUM')
  }

  /** A consistent image of the whole database (must be outside a write transaction). */
  exportImage(): Uint8Array {
    return this.db.export()
  }

  /** Size of the image in bytes. */
  imageSize(): number {
    const pages = this.get('PRAGMA page_count')![0] as number
    const size = this.get('PRAGMA page_size')![0] as number
    return pages * size
  }

  /** Replace the whole database with another image (a process reloading after a checkpoint). */
  async replaceImage(image: Uint8Array, location?: SqlJsLocation): Promise<void> {
    const SQL = await loadSqlJs(location)
    const next = new SQL.Database(image)
    this.changeCounter++
    this.close()
    this.db = next
    this.applyPragmas()
  }

  /** Free statements and the database. */
  close(): void {
    for (const stmt of this.statements.values()) stmt.free()
    this.statements.clear()
    this.db.close()
  }
}

const dataChange = new Map<string, boolean>()
/** INSERT/UPDATE/DELETE/REPLACE set sqlite3_changes(); other statements leave it stale. */
function isDataChange(sql: string): boolean {
  let v = dataChange.get(sql)
  if (v === undefined) {
    v = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql)
    dataChange.set(sql, v)
  }
  return v
}
