import type { SerializedError } from './error-transfer.js'

/** The port methods a member can ask the leader to run. */
export type PortMethod = 'invoke' | 'info' | 'integrityCheck' | 'beginTransaction' | 'commitTransaction' | 'rollbackTransaction' | 'checkpoint'

/**
 * What members of a shared vault say to each other on its BroadcastChannel
 * (src/sharing/tabs/tab-sharing.ts in the pages, src/sharing/tabs/member-server.ts in the leader's worker).
 */
export type TabMessage =
  | { type: 'hello'; from: string }
  | { type: 'leader'; from: string; epoch: number }
  | { type: 'call'; from: string; to: string; id: number; method: PortMethod; args: unknown[] }
  | { type: 'reply'; from: string; to: string; id: number; ok: boolean; value?: unknown; error?: SerializedError }
