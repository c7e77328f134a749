import type { MethodTable } from '../protocol/method-table.js'
import type { CallContext } from './context.js'

/** A domain method as the engine calls it (src/engine/domain-record.ts). */
type ServedMethod = (ctx: CallContext, ...args: any[]) => unknown

/** A domain object whose code is loaded on its first call: see {@link lazyServed}. */
export interface LazyServed<T extends object, M extends MethodTable> {
  /** What the domain's record serves: every method of `M`, forwarding to the loaded object. */
  readonly target: { [K in keyof M]: ServedMethod }
  /** The loaded object, once a call loaded it (closing hooks have nothing to do before). */
  readonly loaded: T | undefined
}

/**
 * Serve a domain whose engine half is heavy (Arrow, yaml, DuckDB glue…) without loading it when the
 * engine opens: the worker's first script stays small, so a new visitor's first `get` does not wait
 * for code it may never use (docs/cold-start.md). The domain's schema is not part of this: it stays
 * in a small module of the record, created and migrated with every vault as before.
 *
 * The stand-in's methods are the method table's names. The first call runs `load` (a dynamic
 * import); calls made meanwhile wait for the same load, in the order they came; a failed load (a
 * chunk that did not download) fails those calls and the next call tries again. Once loaded, each
 * call goes straight to the object, in the same tick: writes keep their call order.
 */
export function lazyServed<T extends object, M extends MethodTable>(methods: M, load: () => Promise<T>): LazyServed<T, M> {
  let loaded: T | undefined
  let loading: Promise<T> | undefined
  const get = (): Promise<T> =>
    (loading ??= load().then(
      (object) => (loaded = object),
      (err: unknown) => {
        loading = undefined
        throw err
      },
    ))
  const call = (object: T, name: string, args: unknown[]): unknown => (object as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args)
  // The engine finds methods on the served object's prototype (VaultEngine.invoke).
  const proto: Record<string, (...args: unknown[]) => unknown> = {}
  for (const name of Object.keys(methods)) {
    proto[name] = (...args: unknown[]) => (loaded ? call(loaded, name, args) : get().then((object) => call(object, name, args)))
  }
  return {
    target: Object.create(proto) as { [K in keyof M]: ServedMethod },
    get loaded() {
      return loaded
    },
  }
}
