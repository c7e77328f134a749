import type { EnginePort } from '../client/engine-port.js'
import { deserializeError, serializeError, type SerializedError } from '../client/error-transfer.js'
import { ClosedError, LockTimeoutError } from '../errors/errors.js'

/**
 * Several tabs (and workers) on one vault in a browser. OPFS sync access handles are exclusive, so
 * exactly one member — the *leader* — runs the engine (in its dedicated worker) and holds the files;
 * the others forward every port call to it.
 *
 * - Election: every member asks for the Web Lock `labvault:<storage>:<name>`; the one holding it is
 *   the leader, the others wait in the lock's queue. When the leader's tab closes (or its vault is
 *   closed), the browser grants the lock to the next member, which opens the engine (replaying the
 *   log, so every acknowledged write is there) and announces itself.
 * - Forwarding: members talk over a BroadcastChannel of the same name: `call` (with a request id)
 *   → the leader runs it on its own port → `reply` to that member. A member's calls reach the leader
 *   in the order it made them, so a read sees every write it had acknowledged, and every write any
 *   tab had acknowledged before (the leader answered those before this read arrived).
 * - Failover: calls still unanswered when a new leader announces itself are sent again to it. Each
 *   call carries a request key (member id and request id): a forwarded write commits together with
 *   its key and result (src/engine/request-log.ts), so a write the old leader had applied before it
 *   vanished is answered from the log by the new one, not applied twice; reads simply run again.
 *   A member with no leader for `lockTimeoutMs` gets LockTimeoutError.
 * - Members that die: every member holds a Web Lock of its own (`…:member:<id>`) for its lifetime.
 *   When a member opens a transaction, the leader queues for that lock; the browser grants it when
 *   the member's tab or worker goes away, and the leader then rolls back the member's open
 *   transactions at once, instead of holding every writer until the transaction timeout (60 s).
 */

type PortMethod = 'invoke' | 'info' | 'integrityCheck' | 'beginTransaction' | 'commitTransaction' | 'rollbackTransaction' | 'checkpoint'

type Message =
  | { type: 'hello'; from: string }
  | { type: 'leader'; from: string; epoch: number }
  | { type: 'call'; from: string; to: string; id: number; method: PortMethod; args: unknown[] }
  | { type: 'reply'; from: string; to: string; id: number; ok: boolean; value?: unknown; error?: SerializedError }

interface Pending {
  id: number
  method: PortMethod
  args: unknown[]
  resolve(v: unknown): void
  reject(e: unknown): void
  sentTo: string | undefined
}

/** Options of {@link openTabShared}. */
export interface TabSharingOptions {
  /** Key of the storage (e.g. `opfs`), so vaults of different storages never meet. */
  storage: string
  /** How long a call may wait for a leader. Default 10 s. */
  lockTimeoutMs?: number
  /** Start the engine (this member became the leader). */
  openEngine(): Promise<EnginePort>
}

/** True where tabs can share a vault (Web Locks and BroadcastChannel). */
export function tabSharingAvailable(): boolean {
  return typeof BroadcastChannel !== 'undefined' && typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function'
}

function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`
}

/**
 * Join the members of vault `name`: resolves once this member is the leader (its engine open) or
 * knows the leader, to a port that runs calls locally or forwards them.
 */
export async function openTabShared(name: string, options: TabSharingOptions): Promise<EnginePort & { role(): 'leader' | 'follower' }> {
  const key = `labvault:${options.storage}:${name}`
  const me = randomId()
  const channel = new BroadcastChannel(key)
  const timeoutMs = options.lockTimeoutMs ?? 10_000
  let local: EnginePort | undefined
  let leader: string | undefined
  let epoch = 0
  let closed = false
  let nextId = 0
  const pending = new Map<number, Pending>()
  let leaderKnown: (() => void) | undefined
  const leaderWait = new Promise<void>((r) => (leaderKnown = r))
  let releaseLock: (() => void) | undefined
  let openFailed: ((err: unknown) => void) | undefined
  const failedToOpen = new Promise<never>((_, reject) => (openFailed = reject))
  failedToOpen.catch(() => {})
  const memberLock = (id: string) => `${key}:member:${id}`
  // Held while this member lives: the leader learns of our death when the browser releases it.
  let releaseMember: (() => void) | undefined
  await new Promise<void>((granted) => {
    void navigator.locks
      .request(memberLock(me), () => {
        granted()
        return new Promise<void>((r) => (releaseMember = r))
      })
      .catch(() => granted())
  })
  // Leader: the open transactions of each member, rolled back when that member dies.
  const memberTransactions = new Map<string, Set<string>>()
  const stopWatching = new AbortController()
  const trackTransaction = (member: string, txId: string) => {
    let open = memberTransactions.get(member)
    if (!open) {
      open = new Set()
      memberTransactions.set(member, open)
      const watched = open
      navigator.locks
        .request(memberLock(member), { signal: stopWatching.signal }, async () => {
          if (memberTransactions.get(member) === watched) memberTransactions.delete(member)
          for (const id of watched) await local?.rollbackTransaction(id).catch(() => {})
        })
        .catch(() => {})
    }
    open.add(txId)
  }
  const untrackTransaction = (member: string, txId: unknown) => memberTransactions.get(member)?.delete(txId as string)

  const post = (m: Message) => {
    if (!closed) channel.postMessage(m)
  }

  const send = (p: Pending) => {
    if (!leader || leader === me) return
    p.sentTo = leader
    post({ type: 'call', from: me, to: leader, id: p.id, method: p.method, args: p.args })
  }

  const runLocal = async (method: PortMethod, args: unknown[], requestKey?: string): Promise<unknown> => {
    const port = local!
    // The key makes a write that may arrive twice (a resend after failover) run once.
    if (requestKey !== undefined && method === 'invoke') return port.invoke(args[0] as string | null, args[1] as string, args[2] as string, args[3] as unknown[], undefined, requestKey)
    if (requestKey !== undefined && method === 'commitTransaction') return port.commitTransaction(args[0] as string, requestKey)
    return (port[method] as (...a: unknown[]) => Promise<unknown>)(...args)
  }

  const setLeader = (id: string, e: number) => {
    if (e < epoch && leader !== undefined) return
    epoch = Math.max(epoch, e)
    const changed = leader !== id
    leader = id
    leaderKnown?.()
    leaderKnown = undefined
    if (changed) for (const p of pending.values()) send(p)
  }

  channel.onmessage = (ev: MessageEvent<Message>) => {
    const m = ev.data
    if (closed || !m || m.from === me) return
    switch (m.type) {
      case 'hello':
        if (local) post({ type: 'leader', from: me, epoch })
        break
      case 'leader':
        if (!local) setLeader(m.from, m.epoch)
        break
      case 'call':
        if (m.to !== me || !local) break
        if (m.method === 'commitTransaction' || m.method === 'rollbackTransaction') untrackTransaction(m.from, m.args[0])
        runLocal(m.method, m.args, `${m.from}:${m.id}`).then(
          (value) => {
            if (m.method === 'beginTransaction') trackTransaction(m.from, value as string)
            post({ type: 'reply', from: me, to: m.from, id: m.id, ok: true, value })
          },
          (err) => post({ type: 'reply', from: me, to: m.from, id: m.id, ok: false, error: serializeError(err) }),
        )
        break
      case 'reply': {
        if (m.to !== me) break
        const p = pending.get(m.id)
        if (!p || p.sentTo !== m.from) break
        pending.delete(m.id)
        if (m.ok) p.resolve(m.value)
        else p.reject(deserializeError(m.error!))
        break
      }
    }
  }

  // Queue for the lock; the callback runs when this member becomes the leader.
  void navigator.locks
    .request(key, async () => {
      if (closed) return
      let port: EnginePort | undefined
      // The previous leader's worker may still hold the files for a moment: retry briefly.
      for (let attempt = 0; ; attempt++) {
        try {
          port = await options.openEngine()
          break
        } catch (err) {
          const name = (err as { name?: string })?.name
          if (attempt >= 150 || (name !== 'ConflictError' && name !== 'NoModificationAllowedError')) {
            openFailed?.(err)
            return
          }
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      if (closed) {
        await port.close().catch(() => {})
        return
      }
      local = port
      epoch = Date.now()
      leader = me
      leaderKnown?.()
      leaderKnown = undefined
      post({ type: 'leader', from: me, epoch })
      // Our own calls that were waiting for a remote leader now run here.
      for (const p of [...pending.values()]) {
        pending.delete(p.id)
        // Sent to the old leader, maybe applied there: the same key as that send.
        runLocal(p.method, p.args, p.sentTo !== undefined ? `${me}:${p.id}` : undefined).then(p.resolve, p.reject)
      }
      await new Promise<void>((r) => (releaseLock = r))
    })
    .catch((err: unknown) => openFailed?.(err))
  post({ type: 'hello', from: me })

  const waitForLeader = async () => {
    if (leader) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LockTimeoutError(`no tab could open vault "${name}" within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([leaderWait, timeout, failedToOpen])
    } finally {
      clearTimeout(timer)
    }
  }

  const call = async (method: PortMethod, args: unknown[]): Promise<unknown> => {
    if (closed) throw new ClosedError(`vault "${name}" is closed`)
    await waitForLeader()
    if (local) return runLocal(method, args)
    return new Promise((resolve, reject) => {
      const p: Pending = { id: ++nextId, method, args, resolve, reject, sentTo: undefined }
      pending.set(p.id, p)
      send(p)
    })
  }

  await waitForLeader()

  return {
    role: () => (local ? 'leader' : 'follower'),
    // Buffers are copied by the channel, so transfer lists do not apply across tabs.
    invoke: (txId, domain, method, args) => call('invoke', [txId, domain, method, args]),
    info: () => call('info', []) as never,
    integrityCheck: () => call('integrityCheck', []) as Promise<string[]>,
    beginTransaction: () => call('beginTransaction', []) as Promise<string>,
    commitTransaction: (id) => call('commitTransaction', [id]) as Promise<void>,
    rollbackTransaction: (id) => call('rollbackTransaction', [id]) as Promise<void>,
    checkpoint: () => call('checkpoint', []) as Promise<void>,
    close: async () => {
      if (closed) return
      for (const p of pending.values()) p.reject(new ClosedError(`vault "${name}" is closed`))
      pending.clear()
      try {
        if (local) await local.close()
      } finally {
        closed = true
        channel.close()
        stopWatching.abort()
        releaseLock?.()
        releaseMember?.()
      }
    },
  }
}
