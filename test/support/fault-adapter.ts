import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { pathSegments, type StorageAdapter } from '../../src/storage/storage-adapter.js'
import { mulberry32 } from './prng.js'

/**
 * A test adapter that wraps any {@link StorageAdapter} and simulates what a crash (process kill,
 * power loss) or a failing disk does to it, deterministically from a seed.
 *
 * ## The model
 * The durability contract of storage-adapter.ts says: `write`, `append` and `truncate` may be
 * buffered; after `sync(path)` resolves, every earlier change to that file (and its existence)
 * survives; unsynced changes may be lost and the last surviving one may be torn; `remove` is durable
 * at the latest after the next `sync` of a file in the same folder. This adapter tracks exactly that,
 * per file:
 * - `durable`: the content the file is guaranteed to have after a crash (`undefined`: absent);
 * - `pending`: the mutating operations since, in order (write, append, truncate, remove).
 *
 * Every call is passed on to the wrapped adapter, so the vault sees a normal adapter until the
 * crash. `sync(p)` makes the current content of `p` durable and empties its pending list; it also
 * makes durable every pending `remove` whose removed path lies in the folder of `p`.
 *
 * A crash happens at a chosen mutating call (the Nth, or each one with a probability, or when the
 * test calls {@link crashNow}). That call throws {@link SimulatedCrash} (its operation counts as
 * begun: it is pending and may partly survive), and so does every later call, reads included.
 * {@link afterCrash} then builds what a restarted process would find, as a fresh {@link MemoryAdapter}:
 * for every file, its durable content plus a seeded random prefix of its pending operations (each
 * file independently: a file system may reorder writes to different files), where the last applied
 * operation may be torn when it writes bytes: only a prefix of its bytes arrived, or all of its
 * length arrived but part of it reads as zeros or garbage (a size update that beat the data). A file
 * that was created and never synced may therefore vanish entirely, and a removed file may come back.
 * Files the wrapper never saw a change to are copied from the wrapped adapter as they are.
 *
 * Instead of a crash the adapter can make chosen calls fail, the way a full disk or a broken device
 * does: a QuotaExceededError DOMException (as OPFS and IndexedDB raise it), a Node `ENOSPC` error,
 * or a Node `EIO` error. A failing call changes nothing (a failing `sync` makes nothing durable; the
 * changes it should have flushed stay pending), so the vault can go on.
 *
 * Randomness comes from a small seeded PRNG (mulberry32), so a failing seed replays exactly.
 */
export class FaultInjectingAdapter implements StorageAdapter {
  readonly kind: string
  /** Mutating calls (write, append, truncate, sync, remove) seen so far, the crashing one included. */
  mutations = 0
  /** The call the crash happened at (undefined: no crash, or {@link crashNow}). */
  crashedAt: { call: number; op: MutationName; path: string } | undefined
  /** Calls that were made to fail, in order. */
  readonly failures: { call: number; op: string; path: string; error: Error }[] = []
  private readonly files = new Map<string, TrackedFile>()
  private readonly rng: () => number
  private crashed: SimulatedCrash | undefined
  private readonly options: Required<Omit<FaultOptions, 'seed' | 'crashAt' | 'failAt'>> & Pick<FaultOptions, 'crashAt' | 'failAt'>
  /** Mutating calls run one at a time, so that the model matches the wrapped adapter's order. */
  private chain: Promise<unknown> = Promise.resolve()

  /**
   * @param inner the adapter that holds the files until the crash; its content at the time of the
   *   first change to a file is taken as durable.
   */
  constructor(
    readonly inner: StorageAdapter,
    options: FaultOptions,
  ) {
    this.kind = inner.kind
    this.rng = mulberry32(options.seed)
    this.options = {
      crashAt: options.crashAt,
      crashProbability: options.crashProbability ?? 0,
      failAt: options.failAt,
      failCount: options.failCount ?? 1,
      failProbability: options.failProbability ?? 0,
      failKind: options.failKind ?? 'quota',
      failOps: options.failOps ?? ['write', 'append', 'truncate', 'sync', 'remove'],
      tornProbability: options.tornProbability ?? 0.5,
    }
  }

  /** True once the simulated crash happened. */
  get hasCrashed(): boolean {
    return this.crashed !== undefined
  }

  /** Crash now (e.g. after the workload ended without reaching the crash point). */
  crashNow(): void {
    this.crashed ??= new SimulatedCrash(`simulated crash after ${this.mutations} mutating calls (crashNow)`)
  }

  // ---- reads: passed through (until the crash) ----

  async read(path: string): Promise<Uint8Array | undefined> {
    this.checkAlive()
    return this.inner.read(path)
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    this.checkAlive()
    return this.inner.readRange(path, offset, length)
  }

  async size(path: string): Promise<number | undefined> {
    this.checkAlive()
    return this.inner.size(path)
  }

  async list(folder: string): Promise<string[]> {
    this.checkAlive()
    return this.inner.list(folder)
  }

  async release(folder: string): Promise<void> {
    if (!this.crashed) await this.inner.release?.(folder)
  }

  async close(): Promise<void> {
    // Closing after a crash is allowed (and does nothing): the process is gone anyway.
    if (!this.crashed) await this.inner.close()
  }

  // ---- mutating calls: counted, maybe crashed or failed, recorded in the model ----

  write(path: string, data: Uint8Array): Promise<void> {
    const copy = data.slice()
    return this.mutate('write', path, { kind: 'write', data: copy }, async () => {
      await this.inner.write(path, copy)
    })
  }

  append(path: string, data: Uint8Array): Promise<number> {
    const copy = data.slice()
    return this.mutate('append', path, { kind: 'append', data: copy }, () => this.inner.append(path, copy))
  }

  truncate(path: string, size: number): Promise<void> {
    return this.mutate('truncate', path, { kind: 'truncate', size }, () => this.inner.truncate(path, size))
  }

  sync(path: string): Promise<void> {
    return this.mutate('sync', path, undefined, async () => {
      await this.inner.sync(path)
      const k = normal(path)
      const content = await this.inner.read(k)
      if (content === undefined) return // a no-op for a missing file
      const f = this.files.get(k)!
      f.durable = content
      f.pending = []
      // Removes in this folder are durable now too (the folder entry was flushed with the file).
      const folder = parentOf(k)
      for (const other of this.files.values()) {
        const last = findLastIndex(other.pending, (op) => op.kind === 'remove' && op.folder === folder)
        if (last >= 0) {
          other.durable = undefined
          other.pending = other.pending.slice(last + 1)
        }
      }
    })
  }

  remove(path: string): Promise<void> {
    return this.mutate('remove', path, undefined, async () => {
      const k = normal(path)
      const folder = parentOf(k)
      for (const file of await this.filesUnder(k)) this.files.get(file)!.pending.push({ kind: 'remove', folder })
      await this.inner.remove(path)
    })
  }

  /**
   * What a restarted process finds: a new MemoryAdapter holding, for each file, its durable content
   * plus a random prefix of its unsynced changes, the last of them maybe torn (see the class comment).
   * Call it once, after the crash (it crashes the adapter first if it has not crashed yet).
   */
  async afterCrash(): Promise<MemoryAdapter> {
    this.crashNow()
    await this.chain.catch(() => {})
    const out = new MemoryAdapter()
    // Untouched files survive as they are.
    for (const path of await walk(this.inner, '')) {
      if (!this.files.has(path)) {
        const bytes = await this.inner.read(path)
        if (bytes) await out.write(path, bytes)
      }
    }
    for (const [path, f] of [...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const content = this.survivor(f)
      if (content !== undefined) await out.write(path, content)
    }
    return out
  }

  /** A human-readable account of the model (for a failing seed's report). */
  describe(): string {
    const lines: string[] = []
    for (const [path, f] of this.files) {
      const ops = f.pending.map((op) => (op.kind === 'truncate' ? `truncate(${op.size})` : op.kind === 'remove' ? 'remove' : `${op.kind}(${op.data.length})`))
      lines.push(`${path}: durable ${f.durable === undefined ? 'absent' : f.durable.length + ' B'}; pending [${ops.join(', ')}]`)
    }
    return lines.join('\n')
  }

  // ---- internals ----

  private checkAlive(): void {
    if (this.crashed) throw this.crashed
  }

  private mutate<T>(name: MutationName, path: string, op: Op | undefined, run: () => Promise<T>): Promise<T> {
    const next = this.chain.then(async () => {
      this.checkAlive()
      const call = ++this.mutations
      const k = normal(path)
      if (name !== 'remove') await this.track(k)
      const o = this.options
      if (call === o.crashAt || (o.crashProbability > 0 && this.rng() < o.crashProbability)) {
        // The crashing call has begun: its change is pending and may partly survive.
        if (op) this.files.get(k)!.pending.push(op)
        else if (name === 'remove') {
          for (const file of await this.filesUnder(k)) this.files.get(file)!.pending.push({ kind: 'remove', folder: parentOf(k) })
        }
        this.crashed = new SimulatedCrash(`simulated crash at mutating call ${call} (${name} ${path})`)
        this.crashedAt = { call, op: name, path: k }
        throw this.crashed
      }
      const failing =
        o.failOps.includes(name) &&
        ((o.failAt !== undefined && call >= o.failAt && call < o.failAt + o.failCount) || (o.failProbability > 0 && this.rng() < o.failProbability))
      if (failing) {
        const error = makeFailure(o.failKind, name, path)
        this.failures.push({ call, op: name, path, error })
        throw error
      }
      const result = await run()
      if (op) this.files.get(k)!.pending.push(op)
      return result
    })
    this.chain = next.catch(() => {})
    return next
  }

  /** Start tracking a file: its content in the wrapped adapter is durable. */
  private async track(path: string): Promise<void> {
    if (this.files.has(path)) return
    this.files.set(path, { durable: await this.inner.read(path), pending: [] })
  }

  /** Every file at or below `path` (the wrapped adapter's and the tracked ones that exist), tracked. */
  private async filesUnder(path: string): Promise<string[]> {
    const found = new Set<string>()
    if (await isFile(this.inner, path)) found.add(path)
    for (const p of await walk(this.inner, path)) found.add(p)
    for (const p of found) await this.track(p)
    return [...found]
  }

  /** The content of one file after the crash. */
  private survivor(f: TrackedFile): Uint8Array | undefined {
    const rng = this.rng
    const keep = Math.floor(rng() * (f.pending.length + 1))
    let content = f.durable
    for (let i = 0; i < keep; i++) {
      const op = f.pending[i]!
      const last = i === keep - 1
      const torn = last && (op.kind === 'write' || op.kind === 'append') && rng() < this.options.tornProbability
      switch (op.kind) {
        case 'write':
          content = torn ? tear(op.data, rng) : op.data
          break
        case 'append': {
          const base = content ?? new Uint8Array(0)
          const data = torn ? tear(op.data, rng) : op.data
          const next = new Uint8Array(base.length + data.length)
          next.set(base)
          next.set(data, base.length)
          content = next
          break
        }
        case 'truncate':
          if (content && op.size < content.length) content = content.slice(0, op.size)
          break
        case 'remove':
          content = undefined
          break
      }
    }
    return content
  }
}

/** Thrown by the crashing call and every call after it. Not a VaultError: nothing should catch it as one. */
export class SimulatedCrash extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SimulatedCrash'
  }
}

/** Options of {@link FaultInjectingAdapter}. Calls are counted from 1. */
export interface FaultOptions {
  /** Seeds every random choice (crash by probability, surviving prefixes, tearing). */
  seed: number
  /** Crash at this mutating call. */
  crashAt?: number
  /** Crash at each mutating call with this probability (drawn from the seed). */
  crashProbability?: number
  /** Fail this mutating call (and the `failCount - 1` after it) instead of running it. */
  failAt?: number
  /** How many consecutive mutating calls fail from `failAt` on. Default 1. */
  failCount?: number
  /** Fail each mutating call with this probability. */
  failProbability?: number
  /** `quota`: DOMException QuotaExceededError; `enospc`: Node's disk full; `io`: Node's EIO. Default `quota`. */
  failKind?: FailKind
  /** Which calls may fail. Default: all mutating calls. */
  failOps?: MutationName[]
  /** Probability that the last surviving write or append of a file is torn. Default 0.5. */
  tornProbability?: number
}

/** The kinds of injected failure. */
export type FailKind = 'quota' | 'enospc' | 'io'
/** The calls that change storage (and so are counted, crashed and failed). */
export type MutationName = 'write' | 'append' | 'truncate' | 'sync' | 'remove'

type Op = { kind: 'write'; data: Uint8Array } | { kind: 'append'; data: Uint8Array } | { kind: 'truncate'; size: number } | { kind: 'remove'; folder: string }

interface TrackedFile {
  /** What survives any crash (`undefined`: the file is absent). */
  durable: Uint8Array | undefined
  /** Changes since, in order; a crash keeps a prefix of them. */
  pending: Op[]
}

/** The error a failing call rejects with, shaped like the platform's own. */
function makeFailure(kind: FailKind, op: string, path: string): Error {
  switch (kind) {
    case 'quota':
      return new DOMException(`injected: quota exceeded (${op} ${path})`, 'QuotaExceededError')
    case 'enospc':
      return Object.assign(new Error(`ENOSPC: no space left on device, ${op} '${path}' (injected)`), { code: 'ENOSPC', errno: -28, syscall: op })
    case 'io':
      return Object.assign(new Error(`EIO: i/o error, ${op} '${path}' (injected)`), { code: 'EIO', errno: -5, syscall: op })
  }
}

/** A torn copy of `data`: a random prefix, or full length with a random stretch zeroed or garbled. */
function tear(data: Uint8Array, rng: () => number): Uint8Array {
  if (data.length === 0) return data
  const mode = rng()
  if (mode < 0.5) return data.slice(0, Math.floor(rng() * data.length))
  const out = data.slice()
  const start = Math.floor(rng() * out.length)
  const end = start + 1 + Math.floor(rng() * (out.length - start))
  if (mode < 0.75) out.fill(0, start, end)
  else for (let i = start; i < end; i++) out[i] = Math.floor(rng() * 256)
  return out
}

/** Every file path at or below `folder` in `storage`. */
async function walk(storage: StorageAdapter, folder: string): Promise<string[]> {
  const out: string[] = []
  for (const name of await storage.list(folder)) {
    const path = folder === '' ? name : `${folder}/${name}`
    if (await isFile(storage, path)) out.push(path)
    else out.push(...(await walk(storage, path)))
  }
  return out
}

/** A path names a file when it has a size and nothing inside it (a folder on disk has a size too). */
async function isFile(storage: StorageAdapter, path: string): Promise<boolean> {
  if (path === '' || (await storage.size(path)) === undefined) return false
  return (await storage.list(path)).length === 0
}

function normal(path: string): string {
  return pathSegments(path).join('/')
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

function findLastIndex<T>(items: T[], pred: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i]!)) return i
  return -1
}
