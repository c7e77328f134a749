import assert from 'node:assert/strict'
import { test } from 'node:test'

// A tab's calls reach the vault's engine in the order the tab made them, also across the moment a
// leader becomes known (src/sharing/tabs/tab-sharing.ts, `call`): calls made while no leader is
// known wait for one, and a call made just after it became known, while earlier ones have not been
// placed yet (a few microtask turns), must not overtake them. The window is microtasks wide, so the
// test sweeps it: the late call is made 0, 1, 2, … microtask turns after the engine opened.
//
// TabMember runs here on Node with what a page gives it: Node's own BroadcastChannel, and Web Locks
// from a small in-process stand-in (test/node/tab-stand-ins.ts: Node 20 has no navigator.locks). The engine is a recorder.

import './tab-stand-ins.js'

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
