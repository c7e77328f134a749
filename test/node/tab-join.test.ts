import assert from 'node:assert/strict'
import { test } from 'node:test'
import { locks } from './tab-stand-ins.js'
import type { TabMessage } from '../../src/protocol/tab-messages.js'

// Joining a vault shared by tabs when the browser loses a message. Browsers register a new
// BroadcastChannel with their other processes asynchronously (whatwg/html#7267): a message posted
// just after another context made its channel is not delivered to it (Chromium lost 1–8 in 100 in a
// probe: a worker makes a channel, tells the page, the page posts at once). Three consequences,
// each checked here with members on Node (test/node/tab-stand-ins.ts) and a channel that loses
// messages on purpose:
// - a member whose `hello` the leader's worker did not hear asks again, instead of waiting out its
//   lock timeout (src/sharing/tabs/tab-sharing.ts, `greet`);
// - a member that could not join leaves the election (before, still queued for the leader lock, it
//   won it later and held the vault open in that page, with no handle to close it);
// - the leader's worker announces itself only once its channel hears (src/sharing/tabs/member-server.ts):
//   a call posted the moment the worker is ready is answered.
// And one more about joining: a member that holds the leader lock waits for its own engine to open,
// however long that takes; `lockTimeoutMs` bounds waiting for a leader, not an open.

const { openTabShared } = await import('../../src/sharing/tabs/tab-sharing.js')
const { serveMembers } = await import('../../src/sharing/tabs/member-server.js')

const NativeChannel = globalThis.BroadcastChannel

/** Node's channels keep the process alive while open: a failing check must not leave the test run hanging on them. */
function unref(channel: BroadcastChannel): void {
  ;(channel as unknown as { unref?: () => void }).unref?.()
}

/** Replace BroadcastChannel for one body: `drop` says which posted messages are lost. */
async function withLossyChannels<T>(drop: (m: TabMessage) => boolean, body: () => Promise<T>): Promise<T> {
  class Lossy extends NativeChannel {
    constructor(name: string) {
      super(name)
      unref(this)
    }
    override postMessage(m: unknown): void {
      if (!drop(m as TabMessage)) super.postMessage(m)
    }
  }
  globalThis.BroadcastChannel = Lossy
  try {
    return await keptAlive(body)
  } finally {
    globalThis.BroadcastChannel = NativeChannel
  }
}

/**
 * Run `body` with the process kept alive for up to 15 s: the channels are unref'd, and a message in
 * flight between them does not keep Node's event loop running by itself.
 */
async function keptAlive<T>(body: () => Promise<T>): Promise<T> {
  const alive = setTimeout(() => {}, 15_000)
  try {
    return await body()
  } finally {
    clearTimeout(alive)
  }
}

/** The engine port of a leader whose worker answers the other members with the real member server. */
function servingEngine(invoked: string[]) {
  let stop: (() => void) | undefined
  const invoke = async (_tx: unknown, _domain: string, method: string) => {
    invoked.push(method)
    return 'answered'
  }
  return {
    invoke,
    serveMembers: async (channel: string, id: string, epoch: number) => {
      const serving = serveMembers({ invoke } as never, channel, id, epoch)
      stop = serving.stop
      await serving.ready
    },
    close: async () => stop?.(),
    terminate: () => stop?.(),
  }
}

test("a member whose first hello is lost asks again and joins (not after its lock timeout)", async () => {
  const invoked: string[] = []
  // Counted once the leader serves: the follower's first hello is the one lost.
  let hellos: number | undefined
  // The leader's own hellos are lost too: when its open outlasts 20 ms its greet repeats, and the
  // worker's answer to that, broadcast, could reach the follower's new channel and tell it who leads
  // without its asking again (CI, under load: "1 hellos").
  const leaderIds = new Set<string>()
  await withLossyChannels(
    (m) => {
      if (m.type !== 'hello') return false
      if (hellos === undefined || leaderIds.has(m.from)) return leaderIds.add(m.from), true
      return ++hellos === 1
    },
    async () => {
      const leader = await openTabShared('join-lost-hello', { storage: 'test', openEngine: async () => servingEngine(invoked) as never })
      hellos = 0
      try {
        assert.equal(leader.role(), 'leader')
        const started = Date.now()
        // The leader lock is held, so this member waits in its queue; only a `hello` answered tells it who leads.
        const follower = await openTabShared('join-lost-hello', { storage: 'test', lockTimeoutMs: 3000, openEngine: async () => assert.fail('the follower must not open an engine') })
        const waited = Date.now() - started
        assert.equal(follower.role(), 'follower')
        assert.ok(hellos! >= 2, `the follower said hello again (${hellos} hellos)`)
        assert.ok(waited < 2500, `joined after ${waited} ms, before its lock timeout`)
        assert.equal(await follower.invoke(null, 'kv', 'get', ['default', 'k']), 'answered', 'its call reaches the leader')
        assert.deepEqual(invoked, ['get'])
        await follower.close()
      } finally {
        await leader.close()
      }
    },
  )
})

test('a member that could not join leaves the election: it does not take the leader lock later', async () => {
  let followerEngines = 0
  // The leader's worker never hears anyone (every hello lost): the second member cannot learn who leads.
  await withLossyChannels(
    (m) => m.type === 'hello',
    async () => {
      const leader = await openTabShared('join-gives-up', { storage: 'test', openEngine: async () => servingEngine([]) as never })
      await assert.rejects(
        openTabShared('join-gives-up', {
          storage: 'test',
          lockTimeoutMs: 200,
          openEngine: async () => {
            followerEngines++
            return servingEngine([]) as never
          },
        }),
        { name: 'LockTimeoutError' },
      )
      await leader.close()
      await new Promise((r) => setTimeout(r, 100))
      assert.equal(followerEngines, 0, 'the member whose open failed did not become the leader')
      assert.equal(locks.held.has('labvault:test:join-gives-up'), false, 'nobody holds the vault once its only handle closed')
    },
  )
})

test("a leader's worker is ready only once its channel hears: a call posted at that moment is answered", async () => {
  // A channel made here hears nothing for its first 40 ms, as a new channel in a browser may not.
  class SlowToRegister extends NativeChannel {
    private readonly from = Date.now() + 40
    constructor(name: string) {
      super(name)
      unref(this)
    }
    override set onmessage(handler: ((ev: MessageEvent) => void) | null) {
      super.onmessage = handler && ((ev: MessageEvent) => (Date.now() >= this.from ? handler(ev) : undefined))
    }
    override get onmessage() {
      return super.onmessage
    }
  }
  globalThis.BroadcastChannel = SlowToRegister as typeof BroadcastChannel
  const served: string[] = []
  let serving: ReturnType<typeof serveMembers> | undefined
  const member = new NativeChannel('ready-probe')
  unref(member)
  try {
    await keptAlive(async () => {
      serving = serveMembers({ invoke: async (_t: unknown, _d: string, method: string) => (served.push(method), 'value') } as never, 'ready-probe', 'leader-1', 1)
      const started = Date.now()
      await serving.ready
      assert.ok(Date.now() - started >= 35, 'ready waited for the channel to hear')
      const reply = new Promise<TabMessage>((resolve) => {
        member.onmessage = (ev: MessageEvent<TabMessage>) => {
          if (ev.data.type === 'reply') resolve(ev.data)
        }
      })
      member.postMessage({ type: 'call', from: 'member-1', to: 'leader-1', id: 1, method: 'invoke', args: [null, 'kv', 'get', ['default', 'k'], {}] } satisfies TabMessage)
      const answer = await Promise.race([reply, new Promise<undefined>((r) => setTimeout(r, 2000))])
      assert.equal(answer?.type === 'reply' && answer.ok ? answer.value : answer, 'value', 'the call was answered')
      assert.deepEqual(served, ['get'])
    })
  } finally {
    serving?.stop()
    member.close()
    globalThis.BroadcastChannel = NativeChannel
  }
})

test('a member that holds the leader lock waits for its own engine, however long it opens; a slow open that fails rejects with its own error', async () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  await withLossyChannels(
    () => false,
    async () => {
      const invoked: string[] = []
      // A large vault's replay can outlast the lock timeout: before, that open rejected with
      // LockTimeoutError once it finished (and hung while it did not).
      const leader = await openTabShared('join-slow-open', {
        storage: 'test',
        lockTimeoutMs: 100,
        openEngine: async () => {
          await sleep(400)
          return servingEngine(invoked) as never
        },
      })
      try {
        assert.equal(leader.role(), 'leader')
        assert.equal(await leader.invoke(null, 'kv', 'get', ['default', 'k']), 'answered')
        assert.deepEqual(invoked, ['get'])
      } finally {
        await leader.close()
      }
      await assert.rejects(
        openTabShared('join-slow-fail', {
          storage: 'test',
          lockTimeoutMs: 100,
          openEngine: async () => {
            await sleep(300)
            throw new Error('the disk is on fire')
          },
        }),
        /the disk is on fire/,
      )
      assert.equal(locks.held.has('labvault:test:join-slow-open'), false, 'the first vault was let go')
      assert.equal(locks.held.has('labvault:test:join-slow-fail'), false, 'the member whose open failed holds no lock')
    },
  )
})
