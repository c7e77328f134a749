import { UnsupportedError } from '../errors/errors.js'

/**
 * Domain clients that load on first use (docs/cold-start.md). `vault.columns`, `vault.lists`,
 * `vault.tables`, `vault.store`, … are synchronous accessors, and every method they have is async:
 * so the accessor can hand out a small stand-in at once, and the stand-in's first call imports the
 * client's module (and Arrow, when that client needs it) and forwards the call. A page that only
 * uses the key-value store never downloads the others.
 *
 * A stand-in is a plain object with one own function per method: the vault's lifecycle guard
 * (src/client/lifecycle.ts) wraps those as it wraps a real client's, so a call is admitted (or
 * refused after close) and counted when it is made, also while its module is still loading.
 */

/** The methods of T whose result is a promise: the ones a stand-in forwards after loading. */
export type AsyncMethodOf<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => PromiseLike<unknown> ? K : never
}[keyof T]

/**
 * Compile-time check that a stand-in covers every public member of T: `true` when the members
 * listed (`Covered`) are all of them, else a type naming the missing ones (so a method added to a
 * client without adding it to its stand-in's list fails `npm run typecheck`).
 */
export type CoversAll<T, Covered extends keyof T> = [Exclude<keyof T, Covered>] extends [never] ? true : { missing: Exclude<keyof T, Covered> }

/** A loader run once (again after a failure: a chunk that failed to download may load next time). */
export class LazyModule<T> {
  private value: T | undefined
  private loading: Promise<T> | undefined

  constructor(
    private readonly what: string,
    private readonly load: () => Promise<T>,
  ) {}

  /** The loaded value, or undefined while it has not loaded. */
  get loaded(): T | undefined {
    return this.value
  }

  /** True once a load was started (it may still be under way). */
  get started(): boolean {
    return this.loading !== undefined
  }

  /**
   * The value, loading it on first use. A module that cannot be downloaded is UnsupportedError.
   * Calls waiting for the load run in the order they were made, on any stand-in of this module
   * ({@link lazyClient}): each waits on `loading`, and the value is taken by the first reaction to
   * `loading` itself, so the calls queued on it all run before any call can find the value there
   * and run at once (taken one step earlier, a call made in between overtook them).
   */
  get(): Promise<T> {
    if (this.value !== undefined) return Promise.resolve(this.value)
    if (!this.loading) {
      const loading = (this.loading = this.load().catch((err: unknown) => {
        this.loading = undefined
        throw new UnsupportedError(`labvault could not load ${this.what} (${err instanceof Error ? err.message : String(err)}): is the package's folder served whole?`, { cause: err })
      }))
      loading.then((v) => (this.value = v), () => {})
    }
    return this.loading
  }
}

/**
 * A stand-in for the client `module` loads: each listed method forwards to it (at once when it
 * is loaded, after the load otherwise, in call order: {@link LazyModule.run}). `extra` adds
 * members that need more than forwarding (synchronous ones, sub-objects). `pick`: the client
 * within what the module loads, when one module loads several clients whose calls must keep their
 * order across them (the item lists': lazyItemClients in ./lazy-domains.ts).
 */
export function lazyClient<T extends object, E extends object = object, L = T>(
  module: LazyModule<L>,
  methods: readonly AsyncMethodOf<T>[],
  className?: string,
  extra?: E,
  pick: (loaded: L) => T = (loaded) => loaded as unknown as T,
): T {
  // Its prototype names the class it stands for, so that the browser entry's stand-in class
  // answers `instanceof` for it before its module loaded (see {@link standIn}).
  const facade = Object.create(className === undefined ? Object.prototype : (brands[className] ??= {})) as Record<PropertyKey, unknown>
  for (const name of methods) {
    facade[name] = function (...args: unknown[]): unknown {
      const ready = module.loaded
      if (ready) return (pick(ready)[name] as (...a: unknown[]) => unknown).apply(pick(ready), args)
      return module.get().then((loaded) => (pick(loaded)[name] as (...a: unknown[]) => unknown).apply(pick(loaded), args))
    }
  }
  if (extra) Object.defineProperties(facade, Object.getOwnPropertyDescriptors(extra))
  return facade as unknown as T
}

/** The classes of the client modules loaded so far, by exported name (for the stand-ins' `instanceof`). */
const loadedClasses = new Map<string, Function>()

/** Record the classes a client module exports, once it loaded. */
export function registerClasses(module: object): void {
  for (const [name, value] of Object.entries(module)) if (typeof value === 'function') loadedClasses.set(name, value as Function)
}

/** One empty prototype per stood-in class name: a lazy client standing for that class inherits it. */
const brands: Record<string, object> = {}

/**
 * Node's entry exports the real client classes (it loads every client at once), but the vault's
 * accessors still hand out lazy clients: make `vault.columns instanceof Columns` hold there too.
 * Each class of `classes` also answers `instanceof` for the lazy clients standing for it, by name;
 * its subclasses keep the ordinary check (the hook compares `this`).
 */
export function acceptStandIns(classes: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(classes)) {
    if (typeof value !== 'function') continue
    const cls = value as Function
    Object.defineProperty(cls, Symbol.hasInstance, {
      value(this: Function, candidate: unknown): boolean {
        if (Function.prototype[Symbol.hasInstance].call(this, candidate)) return true
        return this === cls && candidate !== null && typeof candidate === 'object' && brands[name] !== undefined && brands[name]!.isPrototypeOf(candidate)
      },
    })
  }
}

/**
 * What the browser entry exports in place of a domain client's class (src/browser-domain-exports.ts):
 * `x instanceof DocumentList` holds exactly when x is an instance of the real class, which exists
 * only once its module loaded, or the lazy client standing for it (`vault.columns instanceof
 * Columns` holds before the columns client loaded). The constructors are internal: users
 * get instances from the vault, never by `new`.
 */
export function standIn<C>(name: string): C {
  const named = {
    [name]: class {
      static [Symbol.hasInstance](value: unknown): boolean {
        // A lazy client standing for this class (`vault.columns` before its module loaded), or an
        // object made from one (the vault's guard wraps it with it as prototype).
        if (brands[name]?.isPrototypeOf(value as object)) return true
        const real = loadedClasses.get(name)
        return real !== undefined && value instanceof real
      }
    },
  }
  return named[name] as unknown as C
}
