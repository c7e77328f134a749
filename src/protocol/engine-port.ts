import type { CallOptions, VaultInfo } from './engine-types.js'

/**
 * How the client reaches its engine: directly (Node, or a custom adapter in the page) or through a
 * worker (comlink). Every method is async because it may cross a thread.
 */
export interface EnginePort {
  /**
   * Call `domain.method(...args)` in the engine; `transfer` lists buffers to move, not copy.
   * `requestKey`: the call may arrive again (forwarded from another tab); a write runs once.
   * `options`: the calling handle's durability and read-only right (src/client/handle-port.ts).
   */
  invoke(txId: string | null, domain: string, method: string, args: unknown[], transfer?: Transferable[], requestKey?: string, options?: CallOptions): Promise<unknown>
  info(options?: CallOptions): Promise<VaultInfo>
  /** SQLite's integrity check of the vault's database: `['ok']` when sound. */
  integrityCheck(): Promise<string[]>
  beginTransaction(options?: CallOptions): Promise<string>
  /** `requestKey`: as for {@link invoke}, a commit that may arrive again. */
  commitTransaction(txId: string, requestKey?: string): Promise<void>
  rollbackTransaction(txId: string): Promise<void>
  checkpoint(options?: CallOptions): Promise<void>
  close(): Promise<void>
  /**
   * Stop the engine now, without waiting for anything, as a crash would (a worker is terminated):
   * the log keeps every acknowledged write, and the files are free for another engine. Calls in
   * flight never settle. Only ports that run the engine on another thread have it.
   */
  terminate?(): void
  /**
   * Tab sharing: this port's engine leads; answer the other members' calls on BroadcastChannel
   * `channelName` as `leaderId` (src/sharing/tabs/member-server.ts). Only worker ports have it.
   */
  serveMembers?(channelName: string, leaderId: string, epoch: number): Promise<void>
}

/** A port whose engine runs in a worker of its own: it can be stopped at once and serve members. */
export type WorkerEnginePort = EnginePort & Required<Pick<EnginePort, 'terminate' | 'serveMembers'>>
