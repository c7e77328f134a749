import { serializeError } from '../../protocol/serialized-error.js'
import { isPortCall, portCalls, type EngineCalls, type PortCall } from '../../protocol/engine-port.js'
import { callOrder, convertArgs, paramIndex } from '../../protocol/port-calls.js'
import type { TabMessage } from '../../protocol/tab-messages.js'

/**
 * The leader's side of tab sharing, run inside the leader's engine worker (src/sharing/tabs/tab-sharing.ts
 * holds the election, in the page): it answers other members' calls straight from the worker, so
 * a leader page busy with long synchronous work (a notebook cell computing) does not hold up the
 * other tabs, and a call costs one hop each way.
 *
 * - `call` addressed to this leader → the engine method → `reply` to its sender. Writes and
 *   commits carry the request key `<member>:<id>` (exactly once across failover, see
 *   src/engine/request-log.ts).
 * - Order: a member's calls run in the order they arrive, as far as it matters: a write starts once
 *   that member's previous write settled, and a read once its previous write settled (a forwarded
 *   write waits for its own transaction, so without this a read sent right after an unawaited
 *   write could overtake it). Reads between writes run concurrently; `wait` calls (a watch's long
 *   poll, a paused process's checkpoint) and the calls of an open transaction neither wait nor
 *   hold anything up.
 * - `hello` from a new member → `leader` (who leads, and since when).
 * - A member that opens a transaction is watched through its own Web Lock (`<channel>:member:<id>`):
 *   when the browser grants it to us, that member's tab or worker is gone, and its open
 *   transactions are rolled back at once instead of at the transaction timeout.
 *
 * - Before the leader announces itself, its channel must be able to hear the members: browsers
 *   register a new BroadcastChannel with their other processes asynchronously (whatwg/html#7267),
 *   and a message posted before that is lost to it (Chromium: 1–8 in 100 posted right after a
 *   worker's channel was made). A member that follows the announcement at once (its calls sent
 *   again after a failover) would wait forever for a reply to a call the leader never heard. So the
 *   worker posts on a second channel of the same name until the first hears it: from then on it
 *   is known to the browser (bounded: after 2 s it serves as it is).
 *
 * Returns a function that stops serving, and a promise that settles once the channel hears.
 */
export function serveMembers(engine: EngineCalls, channelName: string, leaderId: string, epoch: number): { stop: () => void; ready: Promise<void> } {
  const channel = new BroadcastChannel(channelName)
  let stopped = false
  // The echo (see above): a second channel posts until the first hears it.
  const echo = new BroadcastChannel(channelName)
  let heard!: () => void
  const ready = new Promise<void>((resolve) => (heard = resolve))
  const started = Date.now()
  let echoTimer: ReturnType<typeof setTimeout> | undefined
  const probe = () => {
    if (stopped || Date.now() - started > READY_WAIT_MS) return heard()
    echo.postMessage({ type: 'ready', from: leaderId } satisfies TabMessage)
    echoTimer = setTimeout(probe, 10)
  }
  void ready.then(() => {
    clearTimeout(echoTimer)
    echo.close()
  })
  const stopWatching = new AbortController()
  const memberTransactions = new Map<string, Set<string>>()
  /** Per member: settles when its latest write settled. */
  const lastWrite = new Map<string, Promise<void>>()

  const post = (m: TabMessage) => {
    if (!stopped) channel.postMessage(m)
  }

  const trackTransaction = (member: string, txId: string) => {
    let open = memberTransactions.get(member)
    if (!open) {
      open = new Set()
      memberTransactions.set(member, open)
      const watched = open
      navigator.locks
        .request(`${channelName}:member:${member}`, { signal: stopWatching.signal }, async () => {
          if (memberTransactions.get(member) === watched) memberTransactions.delete(member)
          for (const id of watched) await engine.rollbackTransaction(id).catch(() => {})
        })
        .catch(() => {})
    }
    open.add(txId)
  }

  /** A port call (src/protocol/engine-port.ts) on the engine; the member's handle options travel in its args. */
  const run = (method: PortCall, args: unknown[], requestKey: string): Promise<unknown> =>
    (engine[method] as (...a: unknown[]) => Promise<unknown>).apply(engine, convertArgs(method, args, 'call', 'engine', requestKey))

  channel.onmessage = (ev: MessageEvent<TabMessage>) => {
    const m = ev.data
    if (stopped || !m) return
    if (m.type === 'ready') {
      if (m.from === leaderId) heard()
      return
    }
    if (m.type === 'hello') {
      post({ type: 'leader', from: leaderId, epoch })
      return
    }
    if (m.type !== 'call' || m.to !== leaderId) return
    // Only the port's calls are run (another script of the origin could post anything).
    if (!isPortCall(m.method)) return
    if (portCalls[m.method].kind === 'end') memberTransactions.get(m.from)?.delete(m.args[paramIndex(m.method, 'txId', 'call')] as string)
    const kind = callOrder(m.method, m.args, 'call')
    const start = (): Promise<unknown> => {
      try {
        return run(m.method, m.args, `${m.from}:${m.id}`)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    const before = kind === 'free' ? undefined : lastWrite.get(m.from)
    const result = before ? before.then(start) : start()
    if (kind === 'write') {
      const settled = result.then(
        () => {},
        () => {},
      )
      lastWrite.set(m.from, settled)
      void settled.then(() => {
        if (lastWrite.get(m.from) === settled) lastWrite.delete(m.from)
      })
    }
    result.then(
      (value) => {
        if (m.method === 'beginTransaction') trackTransaction(m.from, value as string)
        post({ type: 'reply', from: leaderId, to: m.from, id: m.id, ok: true, value })
      },
      (err: unknown) => post({ type: 'reply', from: leaderId, to: m.from, id: m.id, ok: false, error: serializeError(err) }),
    )
  }

  probe()
  return {
    stop: () => {
      stopped = true
      heard()
      stopWatching.abort()
      channel.close()
    },
    ready,
  }
}

/** How long a leader's worker waits for its channel to hear itself before serving anyway. */
const READY_WAIT_MS = 2000
