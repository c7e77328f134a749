import type { PortCall } from './engine-port.js'
import type { SerializedError } from './serialized-error.js'

/**
 * What members of a shared vault say to each other on its BroadcastChannel
 * (src/sharing/tabs/tab-sharing.ts in the pages, src/sharing/tabs/member-server.ts in the leader's worker).
 * A `call` names one of the port's calls (src/protocol/engine-port.ts, `portCalls`) and carries its
 * arguments in the `call` form (src/protocol/port-calls.ts): no transfer list, and no request key,
 * which the leader derives from the sender and the call's id.
 */
export type TabMessage =
  | { type: 'hello'; from: string }
  /** The leader's worker to itself: its channel hears the others (src/sharing/tabs/member-server.ts); members ignore it. */
  | { type: 'ready'; from: string }
  | { type: 'leader'; from: string; epoch: number }
  | { type: 'call'; from: string; to: string; id: number; method: PortCall; args: unknown[] }
  | { type: 'reply'; from: string; to: string; id: number; ok: boolean; value?: unknown; error?: SerializedError }
