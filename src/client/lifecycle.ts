import { ClosedError } from '../errors/errors.js'

/**
 * What `vault.close()` drains and what it refuses (docs/opening.md, "Opening, closing, errors"):
 * - a call is *issued* when its method is called on an object the vault handed out (`vault.kv()`,
 *   `vault.columns`, a Column, a list, a session, `vault.processes`, a process handle, an iterator);
 * - every call issued before `close()` runs to its end, even one that still had to wait for
 *   something (a flush, a hash) before reaching the engine: its write is applied and its promise
 *   settles as it would have; close() waits for all of them;
 * - every call issued after `close()` was called rejects with ClosedError and is never applied.
 *
 * The objects handed out are facades that count calls in flight; the domain objects behind them
 * call each other directly (`this`), so a call issued before close() may go on making the internal
 * calls it needs.
 */
export class Lifecycle {
  private requested = false
  private inFlight = 0
  private lastTracked: PromiseLike<unknown> | undefined
  private drainWaiters: (() => void)[] = []
  private readonly proxies = new WeakMap<object, object>()

  constructor(private readonly vaultName: string) {}

  /** close() was called: nothing new is admitted. */
  get closeRequested(): boolean {
    return this.requested
  }

  requestClose(): void {
    this.requested = true
  }

  /** The error of a call issued after close(). */
  closedError(): ClosedError {
    return new ClosedError(`vault "${this.vaultName}" is closed`)
  }

  /** Calls issued and not settled yet. */
  get busy(): boolean {
    return this.inFlight > 0
  }

  /** Resolves once every call issued before close() settled. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  /** Run an async operation issued now (ClosedError after close()); close() waits for it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.requested) return Promise.reject(this.closedError())
    let result: Promise<T>
    try {
      result = fn()
    } catch (err) {
      return Promise.reject(err)
    }
    this.track(result)
    return result
  }

  private track(result: PromiseLike<unknown>): void {
    // The same promise again (a buffered append returns one shared, settled promise) is counted
    // already, or settled: once is enough, and keeps the hot path of a write cache cheap.
    if (result === this.lastTracked) return
    this.lastTracked = result
    this.inFlight++
    const done = () => {
      if (--this.inFlight === 0) for (const w of this.drainWaiters.splice(0)) w()
    }
    result.then(done, done)
  }

  /**
   * The object as handed to users: each method call is admitted (or refused after close) and
   * counted. `options.handles`: methods whose result is another object to guard (a Column from
   * `columns.get`); `options.untracked`: methods that may wait for a long time for someone else
   * (a paused process's checkpoint), which close() must not wait for.
   */
  guard<T extends object>(target: T, options: GuardOptions = {}): T {
    const existing = this.proxies.get(target)
    if (existing) return existing as T
    // A facade whose prototype is the target: data and getters read through to it, `instanceof`
    // holds, and each method is an own, wrapped property (cheaper per call than a Proxy trap).
    const facade = Object.create(target) as T
    for (const [key, fn] of methodsOf(target)) {
      if (key === 'constructor' || key === 'toJSON' || key === 'toString') continue
      Object.defineProperty(facade, key, { value: this.wrap(target, key, fn, options), writable: false, enumerable: false, configurable: true })
    }
    this.proxies.set(target, facade)
    return facade
  }

  private wrap(target: object, prop: PropertyKey, fn: (...a: unknown[]) => unknown, options: GuardOptions): Function {
    const returnsHandle = options.handles?.includes(prop) ?? false
    const untracked = options.untracked?.includes(prop) ?? false
    // An iterator's `return` (a `for await` that breaks) only lets go: always allowed.
    const free = options.iterator === true && prop === 'return'
    const lc = this
    return function (this: unknown, ...args: unknown[]): unknown {
      if (lc.requested && !free) {
        if (options.sync?.includes(prop)) throw lc.closedError()
        return Promise.reject(lc.closedError())
      }
      let result = fn.apply(target, args)
      if (isAsyncIterator(result)) return lc.guard(result, { iterator: true })
      if (!isThenable(result)) return result
      if (returnsHandle) result = result.then((v) => (v !== null && typeof v === 'object' ? lc.guard(v, options.handleOptions?.(v)) : v))
      if (!untracked) lc.track(result as PromiseLike<unknown>)
      return result
    }
  }
}

/** Every method an object has, own or inherited (but not Object's own). */
function methodsOf(obj: object): Map<PropertyKey, (...a: unknown[]) => unknown> {
  const out = new Map<PropertyKey, (...a: unknown[]) => unknown>()
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Reflect.ownKeys(o)) {
      if (out.has(key)) continue
      const d = Object.getOwnPropertyDescriptor(o, key)
      if (d && typeof d.value === 'function') out.set(key, d.value as (...a: unknown[]) => unknown)
    }
  }
  return out
}

/** How {@link Lifecycle.guard} treats an object's methods. */
export interface GuardOptions {
  handles?: PropertyKey[]
  handleOptions?: (handle: object) => GuardOptions | undefined
  untracked?: PropertyKey[]
  /** Methods that return synchronously (after close they throw rather than reject). */
  sync?: PropertyKey[]
  iterator?: boolean
}

function isThenable(v: unknown): v is Promise<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
}

function isAsyncIterator(v: unknown): v is AsyncIterator<unknown> & object {
  return v !== null && typeof v === 'object' && typeof (v as { next?: unknown }).next === 'function' && Symbol.asyncIterator in v
}
