import type { MethodTable } from '../protocol/method-table.js'
import type { CallContext } from './context.js'

/** A domain method as the engine calls it (src/engine/domain-record.ts). */
type ServedMethod = (ctx: CallContext, ...args: any[]) => unknown

/** What a record serves for one name: every method of its table, forwarding to the loaded object. */
type ServedTarget<M extends MethodTable> = { [K in keyof M]: ServedMethod }

/** The stand-ins' loads, by served object (see {@link servedLoading}). */
const loads = new WeakMap<object, () => Promise<unknown> | undefined>()

/**
 * For a stand-in of {@link lazyServed} whose code has not loaded: its load (started now if it was
 * not). Undefined for any other served object and once loaded. The engine waits for it before
 * anything else of a call (VaultEngine.invoke), so the call then runs as it would on loaded code: a
 * read waits for the writes queued before it, which it could not do were the wait inside the call
 * (an unawaited `lists.create` then `lists.has` sees the list).
 */
export function servedLoading(target: object): Promise<unknown> | undefined {
  return loads.get(target)?.()
}

/** A domain object whose code is loaded on its first call: see {@link lazyServed}. */
export interface LazyServed<T extends object, M extends MethodTable> {
  /** What the domain's record serves: every method of `M`, forwarding to the loaded object. */
  readonly target: ServedTarget<M>
  /** The loaded object, once a call loaded it (closing hooks have nothing to do before). */
  readonly loaded: T | undefined
}

/** Several served names whose objects are loaded together: see {@link lazyServedGroup}. */
export interface LazyServedGroup<T extends { [N in keyof Ms]: object }, Ms extends Record<string, MethodTable>> {
  /** What the domain's record serves, by name. */
  readonly targets: { [N in keyof Ms]: ServedTarget<Ms[N]> }
  /** The loaded objects, once a call on any of the names loaded them. */
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
  const group = lazyServedGroup({ one: methods }, async () => ({ one: await load() }))
  return {
    target: group.targets.one,
    get loaded() {
      return group.loaded?.one
    },
  }
}

/**
 * {@link lazyServed} for a domain that serves several names from one engine half (item lists:
 * `lists`, `lineage`, `search`, `sessions`, which share their in-memory indexes): the first call on
 * any name loads every object at once, and calls on all the names made while it loads wait for that
 * one load in the order they came, whichever name they were made on.
 */
export function lazyServedGroup<T extends { [N in keyof Ms]: object }, Ms extends Record<string, MethodTable>>(methods: Ms, load: () => Promise<T>): LazyServedGroup<T, Ms> {
  let loaded: T | undefined
  let loading: Promise<T> | undefined
  const get = (): Promise<T> =>
    (loading ??= load().then(
      (objects) => (loaded = objects),
      (err: unknown) => {
        loading = undefined
        throw err
      },
    ))
  const call = (objects: T, served: string, name: string, args: unknown[]): unknown => {
    const object = (objects as Record<string, Record<string, (...a: unknown[]) => unknown>>)[served]!
    return object[name]!.apply(object, args)
  }
  const targets: Record<string, object> = {}
  for (const served of Object.keys(methods)) {
    // The engine finds methods on the served object's prototype (VaultEngine.invoke).
    const proto: Record<string, (...args: unknown[]) => unknown> = {}
    for (const name of Object.keys(methods[served]!)) {
      // Every call waits on the same promise (one `then` deep), so the order of arrival is kept across the names.
      proto[name] = (...args: unknown[]) => (loaded ? call(loaded, served, name, args) : get().then((objects) => call(objects, served, name, args)))
    }
    const target = Object.create(proto) as object
    loads.set(target, () => (loaded ? undefined : get()))
    targets[served] = target
  }
  return {
    targets: targets as { [N in keyof Ms]: ServedTarget<Ms[N]> },
    get loaded() {
      return loaded
    },
  }
}
