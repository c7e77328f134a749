import { InvalidArgumentError } from '../../../errors/errors.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import type { ChangeEvent, WatchFilter } from '../shared/changes.js'

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
          try {
            callback(c)
          } catch {
            // The watcher's error is its own.
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
  const stop = await startWatch(caller, typeof filter === 'function' ? undefined : filter, cb, isClosed)
  const stopAll = () => {
    stop()
    stops.delete(stopAll)
  }
  stops.add(stopAll)
  return stopAll
}

