import assert from 'node:assert/strict'
import { after, test } from 'node:test'

// A tab's calls reach the vault's engine in the order the tab made them, also across the moment a
// leader becomes known (src/sharing/tabs/tab-sharing.ts, `call`): calls made while no leader is
// known wait for one, and a call made just after it became known, while earlier ones have not been
// placed yet (a few microtask turns), must not overtake them. The window is microtasks wide, so the
// test sweeps it: the late call is made 0, 1, 2, … microtask turns after the engine opened.
//
// TabMember runs here on Node with what a page gives it: Node's own BroadcastChannel, and Web Locks
// from a small in-process stand-in (Node 20 has no navigator.locks). The engine is a recorder.

/** Web Locks for one process: a lock is granted when free, in request order; released when the callback's promise settles. */
class InProcessLocks {
  private readonly queues = new Map<string, (() => void)[]>()
  private readonly held = new Set<string>()

  request(name: string, ...rest: unknown[]): Promise<unknown> {
    const callback = rest[rest.length - 1] as () => unknown
    const options = (rest.length > 1 ? rest[0] : {}) as { signal?: AbortSignal }
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.held.add(name)
        Promise.resolve()
          .then(callback)
          .then(resolve, reject)
          .finally(() => {
            this.held.delete(name)
            this.queues.get(name)?.shift()?.()
          })
      }
      if (!this.held.has(name)) {
        grant()
        return
      }
      const queue = this.queues.get(name) ?? []
      queue.push(grant)
      this.queues.set(name, queue)
      options.signal?.addEventListener('abort', () => {
        const at = queue.indexOf(grant)
        if (at >= 0) queue.splice(at, 1)
        reject(options.signal!.reason)
      })
    })
  }
}

const hadNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
Object.defineProperty(globalThis, 'navigator', { value: { locks: new InProcessLocks() }, configurable: true, writable: true })
after(() => {
  if (hadNavigator) Object.defineProperty(globalThis, 'navigator', hadNavigator)
  else delete (globalThis as { navigator?: unknown }).navigator
})

const { openTabShared } = await import('../../src/sharing/tabs/tab-sharing.js')

/** An engine port that records the order of the `invoke` calls it receives (by their first argument's marker). */
function recordingEngine(seen: string[]) {
  return {
    invoke: async (_tx: unknown, _domain: string, _method: string, args: unknown[]) => {
      seen.push(String(args[1]))
    },
    serveMembers: async () => {},
    close: async () => {},
    terminate: () => {},
  }
}

test('calls made while a leader is being found, and one made just after, reach the engine in call order (every microtask offset)', async () => {
  const overtaken: number[] = []
  for (let turns = 0; turns <= 40; turns++) {
    const seen: string[] = []
    let openEngine!: (engine: ReturnType<typeof recordingEngine>) => void
    const engineOpened = new Promise<ReturnType<typeof recordingEngine>>((resolve) => (openEngine = resolve))
    // A new vault: the member joins at once (it answers the new vault's reads) while its engine opens.
    const port = await openTabShared(`order-${turns}`, { storage: 'test', openEngine: () => engineOpened as never, vaultIsNew: async () => true })
    // Writes: they wait for the engine (no leader is known yet).
    const early = [1, 2, 3].map((n) => port.invoke(null, 'kv', 'set', ['default', `#${n}`, n]))
    openEngine(recordingEngine(seen))
    // The engine's open settles; `turns` microtask turns later, the late call.
    let late: Promise<unknown> | undefined
    for (let waited = 0; waited < 200 && !late; waited++) {
      await Promise.resolve()
      if (waited >= turns && port.role() === 'leader') late = port.invoke(null, 'kv', 'set', ['default', '#4', 4])
    }
    assert.ok(late, 'the member became the leader')
    await Promise.all([...early, late])
    if (seen.join() !== '#1,#2,#3,#4') overtaken.push(turns)
    assert.deepEqual(seen.slice().sort(), ['#1', '#2', '#3', '#4'], 'each call ran once')
    await port.close()
  }
  assert.deepEqual(overtaken, [], 'microtask offsets at which a later call reached the engine before an earlier one')
})
