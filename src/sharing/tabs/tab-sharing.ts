import type { EnginePort, WorkerEnginePort } from '../../protocol/engine-port.js'
import { deserializeError } from '../../protocol/error-transfer.js'
import { methodKind } from '../../protocol/method-kinds.js'
import { ClosedError, ConflictError, LockTimeoutError } from '../../errors/errors.js'
import type { PortMethod, TabMessage as Message } from '../../protocol/tab-messages.js'

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
 *   → the leader's engine worker runs it (src/sharing/tabs/member-server.ts: the leader page's own
 *   thread is not involved, so a page busy computing does not hold other tabs up) → `reply` to
 *   that member. A member's calls reach the leader
 *   in the order it made them, so a read sees every write it had acknowledged, and every write any
 *   tab had acknowledged before (the leader answered those before this read arrived).
 * - Failover: calls still unanswered when a new leader announces itself are sent again to it. Each
 *   call carries a request key (member id and request id): a forwarded write commits together with
 *   its key and result (src/engine/request-log.ts), so a write the old leader had applied before it
 *   vanished is answered from the log by the new one, not applied twice; reads simply run again.
 *   A member with no leader for `lockTimeoutMs` gets LockTimeoutError.
 * - Members that die: every member holds a Web Lock of its own (`…:member:<id>`) for its lifetime.
 *   When a member opens a transaction, the leader's worker queues for that lock; the browser grants
 *   it when the member's tab or worker goes away, and the leader then rolls back the member's open
 *   transactions at once, instead of holding every writer until the transaction timeout (60 s).
 * - A leader page that is being frozen (Page Lifecycle `freeze`: a background tab the browser
 *   suspends, or a page entering the back/forward cache) steps down in the event: it stops its
 *   engine worker at once (as a crash would: the log holds every acknowledged write, and OPFS frees
 *   the files) and releases the leader lock, so the next member takes over while it sleeps. Calls
 *   of other members it had not answered are sent again to the new leader (exactly once, above).
 *   Its own reads in flight are sent again too; its own writes in flight reject with ConflictError
 *   (they may or may not have been applied). On `resume` it queues for leadership again. Any
 *   frozen member also releases its member lock, so that a transaction it left open is rolled back
 *   at once (it fails when the member resumes).
 */

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
  /** Start the engine (this member became the leader); its port must be able to serve members. */
  openEngine(): Promise<WorkerEnginePort>
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
  /** This member's engine while it leads. */
  let local: WorkerEnginePort | undefined
  let leader: string | undefined
  let epoch = 0
  let closed = false
  let nextId = 0
  const pending = new Map<number, Pending>()
  /** This member's own calls running on `local`, so that a step-down can settle them. */
  const running = new Set<Pending>()
  let leaderWaiters: (() => void)[] = []
  let releaseLock: (() => void) | undefined
  let openFailed: ((err: unknown) => void) | undefined
  const failedToOpen = new Promise<never>((_, reject) => (openFailed = reject))
  failedToOpen.catch(() => {})
  const memberLock = (id: string) => `${key}:member:${id}`
  // Held while this member lives: the leader learns of our death when the browser releases it.
  let releaseMember: (() => void) | undefined
  const holdMemberLock = () =>
    new Promise<void>((granted) => {
      void navigator.locks
        .request(memberLock(me), () => {
          granted()
          return new Promise<void>((r) => (releaseMember = r))
        })
        .catch(() => granted())
    })
  await holdMemberLock()
  const post = (m: Message) => {
    if (!closed) channel.postMessage(m)
  }

  const send = (p: Pending) => {
    if (!leader || leader === me) return
    p.sentTo = leader
    post({ type: 'call', from: me, to: leader, id: p.id, method: p.method, args: p.args })
  }

  const leaderFound = () => {
    for (const w of leaderWaiters.splice(0)) w()
  }

  /** Run one of this member's calls on its engine; a step-down settles it instead (see `stepDown`). */
  const runLocal = (p: Pending, requestKey: string | undefined): void => {
    const port = local!
    running.add(p)
    const call = (port[p.method] as (...a: unknown[]) => Promise<unknown>)(...portArgs(p, requestKey))
    call.then(
      (value) => {
        if (running.delete(p)) p.resolve(value)
      },
      (err: unknown) => {
        if (running.delete(p)) p.reject(err)
      },
    )
  }

  const setLeader = (id: string, e: number) => {
    if (e < epoch && leader !== undefined) return
    epoch = Math.max(epoch, e)
    const changed = leader !== id
    leader = id
    leaderFound()
    if (changed) for (const p of pending.values()) send(p)
  }

  channel.onmessage = (ev: MessageEvent<Message>) => {
    const m = ev.data
    if (closed || !m || m.from === me) return
    // `hello` and `call` are answered by the leader's worker (src/sharing/tabs/member-server.ts).
    switch (m.type) {
      case 'leader':
        if (!local) setLeader(m.from, m.epoch)
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

  // Queue for the leader lock; the callback runs when this member becomes the leader. Closing aborts
  // a request still queued: otherwise the browser could grant the lock to a closed member, which
  // holds it for a moment (deleteVault would then see the vault as open).
  const campaignAbort = new AbortController()
  const campaign = () => {
    void navigator.locks
      .request(key, { signal: campaignAbort.signal }, async () => {
        if (closed) return
        let port: WorkerEnginePort | undefined
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
        const myEpoch = Math.max(Date.now(), epoch + 1)
        try {
          if (!closed) await port.serveMembers(key, me, myEpoch)
        } catch (err) {
          openFailed?.(err)
          await port.close().catch(() => {})
          return
        }
        if (closed) {
          await port.close().catch(() => {})
          return
        }
        const held = new Promise<void>((r) => (releaseLock = r))
        local = port
        epoch = myEpoch
        leader = me
        leaderFound()
        post({ type: 'leader', from: me, epoch })
        // Our own calls that were waiting for a remote leader now run here; one sent to the old
        // leader may have been applied there: it carries the same key as that send.
        for (const p of [...pending.values()]) {
          pending.delete(p.id)
          runLocal(p, p.sentTo !== undefined ? `${me}:${p.id}` : undefined)
        }
        await held
      })
      .catch((err: unknown) => {
        if (!campaignAbort.signal.aborted) openFailed?.(err)
      })
  }

  /**
   * Page Lifecycle `freeze`: a leader steps down at once (nothing runs once the page is frozen, so
   * nothing here may wait). See the module comment.
   */
  const stepDown = () => {
    if (!local || closed) return
    const port = local
    local = undefined
    leader = undefined
    // Other members' calls die with the worker: they send them again to the next leader themselves.
    port.terminate()
    for (const own of [...running]) {
      running.delete(own)
      if (isRead(own)) {
        own.sentTo = undefined
        pending.set(own.id, own)
      } else {
        own.reject(new ConflictError(`this tab was frozen while its engine ran a ${describe(own)}: it may or may not have been applied`))
      }
    }
    releaseLock?.()
    releaseLock = undefined
    steppedDown = true
  }
  let steppedDown = false
  // Page Lifecycle events reach documents only (a worker member is frozen with its page).
  const lifecycle = typeof document !== 'undefined' ? document : undefined
  // Frozen, this member also lets its member lock go: the leader then rolls back any transaction
  // it had open (it could not finish it while frozen, and would hold every writer meanwhile).
  let frozen = false
  const onFreeze = () => {
    if (closed || frozen) return
    frozen = true
    stepDown()
    releaseMember?.()
    releaseMember = undefined
  }
  const onResume = () => {
    if (closed || !frozen) return
    frozen = false
    void holdMemberLock()
    if (!steppedDown) return
    steppedDown = false
    post({ type: 'hello', from: me })
    campaign()
  }
  lifecycle?.addEventListener('freeze', onFreeze)
  lifecycle?.addEventListener('resume', onResume)

  campaign()
  post({ type: 'hello', from: me })

  const waitForLeader = async () => {
    if (leader) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const found = new Promise<void>((r) => leaderWaiters.push(r))
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LockTimeoutError(`no tab could open vault "${name}" within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([found, timeout, failedToOpen])
    } finally {
      clearTimeout(timer)
    }
  }

  const call = async (method: PortMethod, args: unknown[]): Promise<unknown> => {
    if (closed) throw new ClosedError(`vault "${name}" is closed`)
    await waitForLeader()
    return new Promise((resolve, reject) => {
      const p: Pending = { id: ++nextId, method, args, resolve, reject, sentTo: undefined }
      if (local) {
        runLocal(p, undefined)
        return
      }
      pending.set(p.id, p)
      send(p)
    })
  }

  await waitForLeader()

  return {
    role: () => (local ? 'leader' : 'follower'),
    // Buffers are copied by the channel, so transfer lists do not apply across tabs. The calling
    // handle's options (durability, read-only) travel with the call: the leader honours them per call.
    invoke: (txId, domain, method, args, _transfer, _requestKey, callOptions) => call('invoke', [txId, domain, method, args, callOptions]),
    info: (callOptions) => call('info', [callOptions]) as never,
    integrityCheck: () => call('integrityCheck', []) as Promise<string[]>,
    beginTransaction: (callOptions) => call('beginTransaction', [callOptions]) as Promise<string>,
    commitTransaction: (id) => call('commitTransaction', [id]) as Promise<void>,
    rollbackTransaction: (id) => call('rollbackTransaction', [id]) as Promise<void>,
    checkpoint: (callOptions) => call('checkpoint', [callOptions]) as Promise<void>,
    close: async () => {
      if (closed) return
      lifecycle?.removeEventListener('freeze', onFreeze)
      lifecycle?.removeEventListener('resume', onResume)
      // vault.close() let every call issued before it finish; what is still here had no leader to
      // answer it. A write already sent may have been applied: it must not be reported as not done.
      for (const p of pending.values()) {
        if (p.sentTo !== undefined && !isRead(p)) p.reject(new ConflictError(`vault "${name}" was closed before the leader answered a ${describe(p)}: it may or may not have been applied`))
        else p.reject(new ClosedError(`vault "${name}" is closed`))
      }
      pending.clear()
      try {
        if (local) await local.close()
      } finally {
        closed = true
        campaignAbort.abort()
        channel.close()
        releaseLock?.()
        releaseMember?.()
      }
    },
  }
}

/**
 * A call's arguments for this member's own port, with its request key, which makes a write that
 * may arrive twice (a resend after failover) run once. Messages carry `invoke` as
 * `[txId, domain, method, args, callOptions]`; the port takes `(txId, domain, method, args,
 * transfer, requestKey, callOptions)`. `commitTransaction` takes the key after its id.
 */
function portArgs(p: Pending, requestKey: string | undefined): unknown[] {
  if (p.method === 'invoke') return [p.args[0], p.args[1], p.args[2], p.args[3], undefined, requestKey, p.args[4]]
  if (p.method === 'commitTransaction' && requestKey !== undefined) return [p.args[0], requestKey]
  return p.args
}

/** Calls that change nothing, safe to run again on another engine. */
function isRead(p: Pending): boolean {
  if (p.method === 'info' || p.method === 'integrityCheck') return true
  return p.method === 'invoke' && p.args[0] === null && methodKind(p.args[1] as string, p.args[2] as string) === 'read'
}

function describe(p: Pending): string {
  return p.method === 'invoke' ? `${String(p.args[1])}.${String(p.args[2])} call` : `${p.method} call`
}
