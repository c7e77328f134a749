import type { EnginePort, PortCall, WorkerEnginePort } from '../../protocol/engine-port.js'
import { portCallNames } from '../../protocol/engine-port.js'
import { deserializeError } from '../../protocol/serialized-error.js'
import { convertArgs, describeCall, isRerunnable } from '../../protocol/port-calls.js'
import { ClosedError, ConflictError, LockTimeoutError } from '../../errors/errors.js'
import type { TabMessage as Message } from '../../protocol/tab-messages.js'
import { PendingCalls, type PendingCall } from './pending-calls.js'
import { newVaultRead } from '../../domains/kv/shared/kv-new-vault.js'
import { randomId } from '../../protocol/random-id.js'
import { startMark } from '../../protocol/start-marks.js'

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
 *   A member with no leader for `lockTimeoutMs` gets LockTimeoutError, unless it holds the leader
 *   lock and opens the engine itself: its own open (a slow download, a large replay) ends in a
 *   leader or in the open's error (see waitForLeader).
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
 * - A new vault (docs/cold-start.md): once a member holds the leader lock it looks whether the
 *   vault's folder exists ({@link TabSharingOptions.vaultIsNew}). When it does not, the
 *   vault holds no data, and no one else can write it while this member holds the lock and has not
 *   yet served anyone: the member's port is handed out at once, and the reads whose answer on an
 *   empty vault is known (`kv` `get` and `has`: src/domains/kv/shared/kv-new-vault.ts) are answered
 *   on the spot while the engine opens behind. The first call of any other kind ends that for good
 *   (it and every later call wait for the engine, in order), as do the engine starting to serve
 *   other members, a failed open, freezing and closing. Closing waits for the engine's open, so
 *   that the files are let go when `close()` resolves.
 *
 * A member is in one of five states (see {@link MemberState}); `TabMember.become` makes every change
 * of state, and refuses one {@link allowedChange} does not allow:
 *
 *     joining ──(a leader announces itself)──▶ follower ──(a new leader announces itself)──▶ follower
 *        │                                        │
 *        └──────(the leader lock is granted)──────┴──▶ leader ──(freeze)──▶ steppedDown
 *                                                                              │ (resume)
 *                                                       joining or follower ◀──┘
 *     any state ──(close)──▶ closed
 */

/**
 * Where a member stands:
 * - `joining`: no leader known yet (queued for the leader lock, unless opening the engine failed);
 *   calls wait for a leader;
 * - `follower`: forwards every call to `leader` (and stays queued for the lock behind it);
 * - `leader`: holds the leader lock and runs the engine in its worker (`engine`); `release` lets
 *   the lock go;
 * - `steppedDown`: a leader whose page was frozen: its engine is stopped, and it is queued for the
 *   lock no more until the page resumes; calls go to `leader` once a new one announces itself;
 * - `closed`: the vault was closed; nothing runs and nothing is sent.
 */
type MemberState =
  | { readonly name: 'joining' }
  | { readonly name: 'follower'; readonly leader: string }
  | { readonly name: 'leader'; readonly engine: WorkerEnginePort; readonly release: () => void }
  | { readonly name: 'steppedDown'; readonly leader: string | undefined }
  | { readonly name: 'closed' }

type StateName = MemberState['name']

/**
 * The changes of state a member may make (see the module comment): any state but `closed` may
 * close; `joining` and `follower` become a follower (of a new leader) or the leader; a `leader` only
 * steps down; a `steppedDown` member follows a new leader, or rejoins when it resumes.
 */
function allowedChange(from: StateName, to: StateName): boolean {
  if (from === 'closed') return false
  if (to === 'closed') return true
  if (from === 'leader') return to === 'steppedDown'
  if (from === 'steppedDown') return to !== 'leader'
  return to === 'follower' || to === 'leader'
}

/** Options of {@link openTabShared}. */
export interface TabSharingOptions {
  /** Key of the storage (e.g. `opfs`), so vaults of different storages never meet. */
  storage: string
  /** How long a call may wait for another member to lead (not for this member's own open). Default 10 s. */
  lockTimeoutMs?: number
  /** Start the engine (this member became the leader); its port must be able to serve members. */
  openEngine(): Promise<WorkerEnginePort>
  /**
   * Asked once this member holds the leader lock, just before {@link openEngine}: true when the
   * vault does not exist yet (its engine will create it empty). See the module comment, "A new
   * vault". Absent, or false, or failing: the member waits for its engine as usual.
   */
  vaultIsNew?(): Promise<boolean>
}

/** True where tabs can share a vault (Web Locks and BroadcastChannel). */
export function tabSharingAvailable(): boolean {
  return typeof BroadcastChannel !== 'undefined' && typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function'
}

/**
 * Join the members of vault `name`: resolves once this member is the leader (its engine open) or
 * knows the leader, to a port that runs calls locally or forwards them.
 */
export async function openTabShared(name: string, options: TabSharingOptions): Promise<EnginePort & { role(): 'leader' | 'follower' }> {
  const member = new TabMember(name, options)
  // A member that could not join leaves: still queued for the leader lock, it would win it later and
  // hold the vault open in this page with nobody to close it.
  await member.join().catch((err: unknown) => member.close().then(() => Promise.reject(err)))
  return member.port()
}

/** One member of a shared vault: this tab's (or worker's) side of the election and forwarding. */
class TabMember {
  private state: MemberState = { name: 'joining' }
  private readonly key: string
  private readonly me = randomId()
  private readonly channel: BroadcastChannel
  private readonly timeoutMs: number
  /** The newest leader epoch known: an announcement older than it is stale. */
  private epoch = 0
  private readonly calls = new PendingCalls()
  /** Calls waiting for a leader to be known. */
  private leaderWaiters: (() => void)[] = []
  /** Rejects when this member won the lock but could not open the engine: calls waiting for a leader fail with that. */
  private readonly failedToOpen: Promise<never>
  private openFailed!: (err: unknown) => void
  /** Aborts a leader lock request still queued when the vault closes (see {@link campaign}). */
  private readonly campaignAbort = new AbortController()
  /** Lets this member's own lock go (held while it lives and is not frozen; see the module comment). */
  private releaseMember: (() => void) | undefined
  /** The page is frozen (Page Lifecycle): its member lock is released. */
  private frozen = false
  /** Page Lifecycle events reach documents only (a worker member is frozen with its page). */
  private readonly lifecycle = typeof document !== 'undefined' ? document : undefined
  private readonly onFreeze = () => this.freeze()
  private readonly onResume = () => this.resume()
  /**
   * True while the vault is known to hold no data and this member's engine is still opening: the
   * reads {@link newVaultRead} knows are answered here (module comment, "A new vault").
   */
  private answersNew = false
  /** Resolves when this member starts answering a new vault's reads (join then resolves too). */
  private answering!: () => void
  private readonly answeringNew = new Promise<void>((r) => (this.answering = r))
  /** A leader's engine opening (kept until it steps down): resolves once it is open (and serving) or failed to open. */
  private opening: Promise<unknown> | undefined

  constructor(
    private readonly name: string,
    private readonly options: TabSharingOptions,
  ) {
    this.key = `labvault:${options.storage}:${name}`
    this.channel = new BroadcastChannel(this.key)
    this.timeoutMs = options.lockTimeoutMs ?? 10_000
    this.failedToOpen = new Promise<never>((_, reject) => (this.openFailed = reject))
    this.failedToOpen.catch(() => {})
  }

  /** Hold the member lock, listen, queue for leadership and wait until a leader is known. */
  async join(): Promise<void> {
    // Both locks are asked for at once (in a fresh profile each grant takes the browser a while); join
    // waits for the member lock too, so no call of this member goes out before it is held, which is
    // all it is for. (Rounds seven and ten took this order back for a failure under load that was a
    // lost `hello`, not the order: see greet and docs/cold-start.md, "Thirteenth round".)
    const member = this.holdMemberLock()
    this.channel.onmessage = (ev: MessageEvent<Message>) => this.receive(ev.data)
    this.lifecycle?.addEventListener('freeze', this.onFreeze)
    this.lifecycle?.addEventListener('resume', this.onResume)
    this.campaign()
    this.greet()
    await Promise.all([member, Promise.race([this.waitForLeader(), this.answeringNew])])
  }

  /** The port the vault uses: every port call (src/protocol/engine-port.ts) runs here or goes to the leader. */
  port(): EnginePort & { role(): 'leader' | 'follower' } {
    const port: Record<string, unknown> = {
      role: () => (this.state.name === 'leader' ? 'leader' : 'follower'),
      close: () => this.close(),
    }
    // Buffers are copied by the channel, so transfer lists do not apply across tabs, and this member
    // gives its calls request keys of its own. The calling handle's options (durability, read-only)
    // travel with the call: the leader honours them per call.
    for (const method of portCallNames) port[method] = (...args: unknown[]) => this.call(method, convertArgs(method, args, 'port', 'call'))
    return port as unknown as EnginePort & { role(): 'leader' | 'follower' }
  }

  private become(next: MemberState): void {
    if (!allowedChange(this.state.name, next.name)) throw new Error(`tab sharing: ${this.state.name} cannot become ${next.name}`)
    this.state = next
  }

  /** The leader this member's calls go to (itself while it leads), if one is known. */
  private get leader(): string | undefined {
    const { state } = this
    // (`follower` and `steppedDown` carry a leader; `joining` and `closed` have none.)
    return state.name === 'leader' ? this.me : (state as { leader?: string }).leader
  }

  private get closed(): boolean {
    return this.state.name === 'closed'
  }

  private post(m: Message): void {
    if (!this.closed) this.channel.postMessage(m)
  }

  /** Send a forwarded call to the leader, if one is known and it is not this member. */
  private send(call: PendingCall): void {
    const leader = this.leader
    if (!leader || leader === this.me) return
    call.sentTo = leader
    this.post({ type: 'call', from: this.me, to: leader, id: call.id, method: call.method, args: call.args })
  }

  private receive(m: Message): void {
    if (this.closed || !m || m.from === this.me) return
    // `hello` and `call` are answered by the leader's worker (src/sharing/tabs/member-server.ts).
    if (m.type === 'leader') return this.leaderAnnounced(m.from, m.epoch)
    if (m.type !== 'reply' || m.to !== this.me) return
    const call = this.calls.takeReply(m.id, m.from)
    if (m.ok) call?.resolve(m.value)
    else call?.reject(deserializeError(m.error!))
  }

  /** Another member leads since `epoch`: follow it, and send it every call still unanswered. */
  private leaderAnnounced(id: string, epoch: number): void {
    const { state } = this
    if (state.name === 'leader' || state.name === 'closed') return
    if (epoch < this.epoch && this.leader !== undefined) return
    this.epoch = Math.max(this.epoch, epoch)
    const changed = this.leader !== id
    this.become(state.name === 'steppedDown' ? { name: 'steppedDown', leader: id } : { name: 'follower', leader: id })
    this.leaderFound()
    if (changed) for (const call of this.calls.forwardedCalls()) this.send(call)
  }

  private leaderFound(): void {
    for (const w of this.leaderWaiters.splice(0)) w()
  }

  private async waitForLeader(): Promise<void> {
    if (this.leader) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const found = new Promise<void>((r) => this.leaderWaiters.push(r))
    const timeout = new Promise<never>((_, reject) => {
      // Not while this member holds the leader lock and opens the engine: that open (a large vault's
      // replay may take longer) ends in a leader or in failedToOpen; it is not a wait for a lock.
      timer = setTimeout(() => this.opening || reject(new LockTimeoutError(`no tab could open vault "${this.name}" within ${this.timeoutMs} ms`)), this.timeoutMs)
    })
    try {
      await Promise.race([found, timeout, this.failedToOpen])
    } finally {
      clearTimeout(timer)
    }
  }

  private call(method: PortCall, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new ClosedError(`vault "${this.name}" is closed`))
    if (this.answersNew) {
      // args in the call form: [txId, domain, method, args, options].
      const known = method === 'invoke' && args[0] == null && args[1] === 'kv' ? newVaultRead(args[2], args[3]) : undefined
      if (known) return Promise.resolve(known.value)
      this.answersNew = false
    }
    // The leader known and no earlier call still waiting for one: placed now, in call order (a
    // call's few microtask turns are a measurable part of a key-value get: docs/engines.md).
    if (this.leader !== undefined && this.waitingForLeader === 0) return this.place(method, args)
    // Otherwise it waits for a leader, and for the calls that waited before it to be placed: once a
    // leader is known, a new call's wait ends in fewer microtask turns than theirs, and without the
    // chain it would be placed first (test/node/tab-call-order.test.ts). Each wait has its own
    // timeout, counted from its call.
    this.waitingForLeader++
    const own = this.waitForLeader()
    const turn = this.placedBefore ? Promise.all([this.placedBefore, own]) : own
    const placed = turn.then(
      () => {
        this.waitingForLeader--
        return this.place(method, args)
      },
      (err: unknown) => {
        this.waitingForLeader--
        throw err
      },
    )
    // (Registered after the placement: the next waiting call's turn comes after it.)
    this.placedBefore = turn.then(noop, noop)
    return placed
  }

  /** Calls waiting for a leader to be found (see {@link call}). */
  private waitingForLeader = 0
  /** Settles once the last call that waited for a leader has been placed (or failed). */
  private placedBefore: Promise<void> | undefined

  /** Run a call on this member's engine while it leads, else send it to the leader. */
  private place(method: PortCall, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call = this.calls.create(method, args, resolve, reject)
      if (this.state.name === 'leader') {
        this.runLocal(this.state.engine, call)
        return
      }
      this.calls.forward(call)
      this.send(call)
    })
  }

  /**
   * Run one of this member's calls on its own engine; a step-down settles it instead (see
   * {@link stepDown}). A call sent to a previous leader may have been applied there: it runs with
   * the key it was sent with.
   */
  private runLocal(engine: WorkerEnginePort, call: PendingCall): void {
    const requestKey = call.sentTo !== undefined ? `${this.me}:${call.id}` : undefined
    const method = engine[call.method] as (...args: unknown[]) => Promise<unknown>
    this.calls.run(call, method.apply(engine, convertArgs(call.method, call.args, 'call', 'port', requestKey)))
  }

  /**
   * Queue for the leader lock; the callback runs when this member becomes the leader. Closing
   * aborts a request still queued: otherwise the browser could grant the lock to a closed member,
   * which holds it for a moment (deleteVault would then see the vault as open).
   */
  private campaign(): void {
    void navigator.locks
      .request(this.key, { signal: this.campaignAbort.signal }, () => this.lead())
      .catch((err: unknown) => {
        if (!this.campaignAbort.signal.aborted) this.openFailed(err)
      })
  }

  /** The leader lock is ours: open the engine, serve the others, and hold the lock until released. */
  private async lead(): Promise<void> {
    startMark('leader-lock')
    if (this.closed) return
    const leading = (this.opening = this.openAndServe())
    await (await leading)?.held
  }

  /**
   * {@link lead}'s work: open the engine and serve the other members. Resolves to what holds the
   * lock (until this member steps down or closes; wrapped, or resolving would wait for it), or
   * undefined when there is nothing to hold.
   */
  private async openAndServe(): Promise<{ held: Promise<void> } | undefined> {
    // Asked before the engine's open is sent, so that the answer is about the folder before that open.
    const isNew = this.options.vaultIsNew?.().catch(() => false)
    const engineOpen = this.openEngine()
    // No call of this member can be waiting: its port is handed out only once join() resolves.
    if (isNew && (await Promise.race([isNew, engineOpen.then(() => false)])) && !this.closed && !this.frozen) {
      startMark('new-vault')
      this.answersNew = true
      this.answering()
    }
    const engine = await engineOpen
    // From here the engine answers, or the open failed and the lock goes; other members' calls
    // (writes among them) may reach the engine: nothing is answered here any more.
    this.answersNew = false
    if (!engine) return
    const epoch = Math.max(Date.now(), this.epoch + 1)
    let alive: string | void = undefined
    try {
      if (!this.closed) alive = await engine.serveMembers(this.key, this.me, epoch)
    } catch (err) {
      this.openFailed(err)
      await engine.close().catch(() => {})
      return
    }
    if (this.closed) {
      await engine.close().catch(() => {})
      return
    }
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    this.become({ name: 'leader', engine, release })
    // Granted once the engine's worker is gone without our doing (the page terminated it, it
    // crashed, or it stopped after an uncaught error: src/client/worker-port.ts): leading nothing,
    // this member would hold every other member's calls forever. It steps down (its calls in
    // flight are settled as after a freeze) and stands again at once: the next leader, or this
    // member again with a fresh engine, replays the log.
    if (alive)
      void navigator.locks.request(alive, () => {
        // (Only while it leads with this engine: one it stepped down from was terminated by us.)
        if ((this.state as { engine?: unknown }).engine === engine) this.stepDown(), this.rejoin()
      })
    this.epoch = epoch
    this.leaderFound()
    this.post({ type: 'leader', from: this.me, epoch })
    // Our own calls that were waiting for a remote leader now run here.
    for (const call of this.calls.takeForwarded()) this.runLocal(engine, call)
    return { held }
  }

  /** The engine, opened (the previous leader's worker may still hold the files for a moment: retried briefly); undefined when it failed (reported). */
  private async openEngine(): Promise<WorkerEnginePort | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.options.openEngine()
      } catch (err) {
        const name = (err as { name?: string })?.name
        if (attempt >= 150 || (name !== 'ConflictError' && name !== 'NoModificationAllowedError')) {
          this.openFailed(err)
          return undefined
        }
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }

  /**
   * Page Lifecycle `freeze`: a leader steps down at once (nothing runs once the page is frozen, so
   * nothing here may wait). Frozen, any member also lets its member lock go: the leader then rolls
   * back any transaction it had open (it could not finish it while frozen, and would hold every
   * writer meanwhile). See the module comment.
   */
  private freeze(): void {
    if (this.closed || this.frozen) return
    this.frozen = true
    this.answersNew = false
    this.stepDown()
    this.releaseMember?.()
    this.releaseMember = undefined
  }

  private stepDown(): void {
    const { state } = this
    if (state.name !== 'leader') return
    this.become({ name: 'steppedDown', leader: undefined })
    // No longer opening (see waitForLeader): a failed open rejects every wait anyway, and a leader
    // leaves only here or by closing.
    this.opening = undefined
    // Other members' calls die with the worker: they send them again to the next leader themselves.
    state.engine.terminate()
    for (const own of this.calls.takeRunning()) {
      if (isRerunnable(own.method, own.args, 'call')) {
        own.sentTo = undefined
        this.calls.forward(own)
      } else {
        own.reject(new ConflictError(`this tab's engine stopped before it answered a ${describeCall(own.method, own.args, 'call')} call: it may or may not have been applied`))
      }
    }
    state.release()
  }

  /** Page Lifecycle `resume`: hold the member lock again; a member that stepped down queues for leadership again. */
  private resume(): void {
    if (this.closed || !this.frozen) return
    this.frozen = false
    void this.holdMemberLock()
    this.rejoin()
  }

  /** A member that stepped down follows the leader it knows of, or joins again; either way it queues for leadership. */
  private rejoin(): void {
    const { state } = this
    if (state.name !== 'steppedDown') return
    this.become(state.leader !== undefined ? { name: 'follower', leader: state.leader } : { name: 'joining' })
    this.greet()
    this.campaign()
  }

  /**
   * Ask who leads (the leader's worker answers), and ask again while no leader is known, after 20,
   * 40, 80, … 2560 ms (9 times in all, the last ~5.1 s after the first): browsers register a new
   * BroadcastChannel with their other processes asynchronously (whatwg/html#7267), so a `hello`
   * posted just after a new leader's worker opened its channel can miss it, as can a leader's
   * announcement posted just after this member's channel was made. Without the repeat such a member
   * waited out the lock timeout.
   * (A closed member posts nothing: see post.)
   */
  private greet(delay = 20): void {
    this.post({ type: 'hello', from: this.me })
    if (delay < 5e3) setTimeout(() => this.leader ?? this.greet(delay * 2), delay)
  }

  /** Held while this member lives: the leader learns of our death when the browser releases it. */
  private holdMemberLock(): Promise<void> {
    return new Promise<void>((granted) => {
      void navigator.locks
        .request(`${this.key}:member:${this.me}`, () => {
          startMark('member-lock')
          granted()
          return new Promise<void>((r) => (this.releaseMember = r))
        })
        .catch(() => granted())
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.answersNew = false
    // A new vault's handle was handed out while its engine opened: let that open finish, so that
    // the engine is closed (and its files let go) before close() resolves.
    await this.opening
    if (this.closed) return
    this.lifecycle?.removeEventListener('freeze', this.onFreeze)
    this.lifecycle?.removeEventListener('resume', this.onResume)
    // vault.close() let every call issued before it finish; what is still here had no leader to
    // answer it. A write already sent may have been applied: it must not be reported as not done.
    for (const call of this.calls.takeForwarded()) {
      if (call.sentTo !== undefined && !isRerunnable(call.method, call.args, 'call')) {
        call.reject(new ConflictError(`vault "${this.name}" was closed before the leader answered a ${describeCall(call.method, call.args, 'call')} call: it may or may not have been applied`))
      } else call.reject(new ClosedError(`vault "${this.name}" is closed`))
    }
    const { state } = this
    try {
      if (state.name === 'leader') await state.engine.close()
    } finally {
      // A second close() while the first waited for the engine finds the member closed already.
      if (!this.closed) this.become({ name: 'closed' })
      this.campaignAbort.abort()
      this.channel.close()
      if (state.name === 'leader') state.release()
      this.releaseMember?.()
    }
  }
}

function noop(): void {}
