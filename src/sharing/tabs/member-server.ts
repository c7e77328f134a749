import { serializeError } from '../../protocol/error-transfer.js'
import type { CallOptions, VaultEngine } from '../../engine/vault-engine.js'
import { methodKind } from '../../protocol/method-kinds.js'
import type { PortMethod, TabMessage } from '../../protocol/tab-messages.js'

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
 * Returns a function that stops serving.
 */
export function serveMembers(engine: VaultEngine, channelName: string, leaderId: string, epoch: number): () => void {
  const channel = new BroadcastChannel(channelName)
  const stopWatching = new AbortController()
  const memberTransactions = new Map<string, Set<string>>()
  /** Per member: settles when its latest write settled. */
  const lastWrite = new Map<string, Promise<void>>()
  let stopped = false

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

  const run = (method: PortMethod, args: unknown[], requestKey: string): Promise<unknown> => {
    switch (method) {
      // The member's handle options (durability, read-only) are honoured for this call.
      case 'invoke':
        return engine.invoke(args[0] as string | null, args[1] as string, args[2] as string, args[3] as unknown[], requestKey, args[4] as CallOptions | undefined)
      case 'commitTransaction':
        return engine.commitTransaction(args[0] as string, requestKey)
      case 'rollbackTransaction':
        return engine.rollbackTransaction(args[0] as string)
      case 'beginTransaction':
        return engine.beginTransaction(args[0] as CallOptions | undefined)
      case 'info':
        return engine.info(args[0] as CallOptions | undefined)
      case 'integrityCheck':
        return engine.integrityCheck()
      case 'checkpoint':
        return engine.checkpoint(args[0] as CallOptions | undefined)
    }
  }

  channel.onmessage = (ev: MessageEvent<TabMessage>) => {
    const m = ev.data
    if (stopped || !m) return
    if (m.type === 'hello') {
      post({ type: 'leader', from: leaderId, epoch })
      return
    }
    if (m.type !== 'call' || m.to !== leaderId) return
    if (m.method === 'commitTransaction' || m.method === 'rollbackTransaction') memberTransactions.get(m.from)?.delete(m.args[0] as string)
    const kind = orderKind(m.method, m.args)
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

  return () => {
    stopped = true
    stopWatching.abort()
    channel.close()
  }
}

/**
 * How a call orders against the same member's other calls (see {@link serveMembers}). Calls of an
 * open transaction never wait: the member awaits each of them already, and a plain write it left
 * unawaited waits for that transaction (holding them behind it would deadlock).
 */
function orderKind(method: PortMethod, args: unknown[]): 'read' | 'write' | 'free' {
  switch (method) {
    case 'info':
    case 'integrityCheck':
      return 'read'
    case 'beginTransaction':
    case 'checkpoint':
      return 'write'
    case 'commitTransaction':
    case 'rollbackTransaction':
      return 'free'
    case 'invoke': {
      if (args[0] !== null) return 'free'
      const kind = methodKind(args[1] as string, args[2] as string)
      return kind === 'wait' ? 'free' : kind === 'write' ? 'write' : 'read'
    }
  }
}
