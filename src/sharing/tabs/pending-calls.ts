import type { PortCall } from '../../protocol/engine-port.js'

/**
 * One of a member's calls, until it settles. Its arguments are in the `call` form
 * (src/protocol/port-calls.ts): what a tab message carries.
 */
export interface PendingCall {
  readonly id: number
  readonly method: PortCall
  readonly args: unknown[]
  /**
   * The leader it was last sent to; undefined while never sent. A call once sent may have been
   * applied there: wherever it runs next, it carries the same request key (`<member>:<id>`).
   */
  sentTo: string | undefined
  resolve(value: unknown): void
  reject(err: unknown): void
}

/**
 * A member's calls not yet settled (src/sharing/tabs/tab-sharing.ts), in one of two places:
 * - forwarded: waiting for a remote leader, or sent to one and waiting for its `reply`;
 * - running on the member's own engine while it leads: the engine settles them, unless the member
 *   steps down first and settles them itself.
 */
export class PendingCalls {
  private lastId = 0
  private readonly forwarded = new Map<number, PendingCall>()
  private readonly running = new Set<PendingCall>()

  /** A new call with the next id, in neither place yet. */
  create(method: PortCall, args: unknown[], resolve: (value: unknown) => void, reject: (err: unknown) => void): PendingCall {
    return { id: ++this.lastId, method, args, sentTo: undefined, resolve, reject }
  }

  /** Place `call` among those a remote leader answers. */
  forward(call: PendingCall): void {
    this.forwarded.set(call.id, call)
  }

  /** The forwarded calls, in the order they were placed (to send them again to a new leader). */
  forwardedCalls(): IterableIterator<PendingCall> {
    return this.forwarded.values()
  }

  /**
   * The call a reply from leader `from` answers, taken out; undefined when that call was settled
   * already or was last sent to another leader (the reply of a leader it was sent to before).
   */
  takeReply(id: number, from: string): PendingCall | undefined {
    const call = this.forwarded.get(id)
    if (!call || call.sentTo !== from) return undefined
    this.forwarded.delete(id)
    return call
  }

  /** Every forwarded call, taken out (this member now leads, or closes). */
  takeForwarded(): PendingCall[] {
    const calls = [...this.forwarded.values()]
    this.forwarded.clear()
    return calls
  }

  /** `call` runs on this member's engine: it settles as `result` does, unless {@link takeRunning} took it first. */
  run(call: PendingCall, result: Promise<unknown>): void {
    this.running.add(call)
    result.then(
      (value) => {
        if (this.running.delete(call)) call.resolve(value)
      },
      (err: unknown) => {
        if (this.running.delete(call)) call.reject(err)
      },
    )
  }

  /** Every call running on this member's engine, taken out: the engine is gone, the caller settles or places them. */
  takeRunning(): PendingCall[] {
    const calls = [...this.running]
    this.running.clear()
    return calls
  }
}
