import { InvalidArgumentError } from '../../../errors/errors.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { WATCHABLE_DOMAINS, type ChangeEvent, type WatchFilter } from '../shared/changes.js'

export type { ChangeEvent, WatchFilter } from '../shared/changes.js'

/**
 * Start a watch loop: long-polls the engine's change feed and calls `callback` for each matching
 * change. Returns the function that stops it.
 */
export async function startWatch(caller: DomainCaller, filter: WatchFilter | undefined, callback: (change: ChangeEvent) => void, isClosed: () => boolean): Promise<() => void> {
  let stopped = false
  // The cursor is taken before this resolves: every change made after `watch` resolved is reported.
  let cursor = (await caller.call('changes', 'cursor', [])) as number
  const run = async () => {
    while (!stopped && !isClosed()) {
      try {
        const r = (await caller.call('changes', 'next', [cursor, filter, 15_000])) as { changes: ChangeEvent[]; cursor: number }
        cursor = r.cursor
        if (stopped) break
        for (const c of r.changes) {
          // One poll may answer several changes (commits made while the answer crossed a worker or
          // a tab, or while callbacks ran): a callback that stopped its watch, or closed the vault,
          // hears none of the rest (before, it heard the rest of that answer after stop()).
          if (stopped || isClosed()) break
          try {
            // The watcher's error is its own, an async callback's rejection too (it would be an
            // unhandled rejection, which ends a Node process).
            const done = callback(c) as unknown
            if (done instanceof Promise) done.catch(() => {})
          } catch {
            // (As above.)
          }
        }
      } catch {
        if (stopped || isClosed()) break
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }
  run().catch(() => {})
  return () => {
    stopped = true
  }
}

/**
 * `vault.watch(filter, callback)` or `vault.watch(callback)` (src/client/vault.ts keeps only the
 * call, so that a page that never watches carries none of this): checks the callback, starts the
 * loop, and keeps its stop function in `stops`, which the vault's close() calls, until it is called.
 */
export async function watchVault(
  caller: DomainCaller,
  filter: WatchFilter | ((change: ChangeEvent) => void),
  callback: ((change: ChangeEvent) => void) | undefined,
  isClosed: () => boolean,
  stops: Set<() => void>,
): Promise<() => void> {
  const cb = typeof filter === 'function' ? filter : callback
  if (typeof cb !== 'function') throw new InvalidArgumentError('vault.watch needs a callback function')
  if (typeof filter !== 'function') checkWatchFilter(filter)
  const stop = await startWatch(caller, typeof filter === 'function' ? undefined : filter, cb, isClosed)
  const stopAll = () => {
    stop()
    stops.delete(stopAll)
  }
  stops.add(stopAll)
  return stopAll
}


/**
 * Check a watch filter: a malformed one was accepted and then heard nothing (a string for
 * `domains` made every poll throw, silently retried) or everything (a misspelt option name).
 */
function checkWatchFilter(filter: unknown): void {
  if (filter === undefined) return
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw new InvalidArgumentError(`vault.watch: the filter must be an object such as { domains: ['kv'] }, got ${filter === null ? 'null' : Array.isArray(filter) ? 'an array' : typeof filter}`)
  const known = ['domains', 'kvNamespaces', 'externalOnly']
  for (const key of Object.keys(filter)) if (!known.includes(key)) throw new InvalidArgumentError(`vault.watch: unknown filter option "${key}" (known: ${known.join(', ')})`)
  const f = filter as Record<string, unknown>
  const strings = (name: string): string[] | undefined => {
    const v = f[name]
    if (v === undefined) return undefined
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InvalidArgumentError(`vault.watch: filter option "${name}" must be an array of strings`)
    return v as string[]
  }
  for (const d of strings('domains') ?? []) if (!WATCHABLE_DOMAINS.includes(d)) throw new InvalidArgumentError(`vault.watch: unknown domain "${d}" (known: ${WATCHABLE_DOMAINS.join(', ')})`)
  strings('kvNamespaces')
  if (f.externalOnly !== undefined && typeof f.externalOnly !== 'boolean') throw new InvalidArgumentError('vault.watch: filter option "externalOnly" must be a boolean')
}
