import type { CallOptions, OptimizeResult, VaultInfo } from './engine-types.js'

/**
 * How the client reaches its engine: directly (Node, or a custom adapter in the page) or through a
 * worker (src/protocol/worker-messages.ts). Every method is async because it may cross a thread.
 *
 * The port is `invoke` plus the vault's lifecycle. Its calls (all but `close` and the worker-only
 * extras) are listed once, with how each crosses a boundary, in {@link portCalls}: every transport
 * (src/client/in-process-port.ts, src/client/worker-port.ts and src/worker/worker-service.ts,
 * src/sharing/tabs/tab-sharing.ts and member-server.ts, src/client/handle-port.ts) forwards them
 * from that list.
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
  /** VACUUM the database and checkpoint at once, so that the fresh image is the vacuumed one. */
  optimize(options?: CallOptions): Promise<OptimizeResult>
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
   * Resolves to the name of a Web Lock the worker holds for the rest of its life (the page is
   * granted it once the worker is gone: terminated by the page, or crashed, which no event tells),
   * or to nothing where the worker has no Web Locks.
   */
  serveMembers?(channelName: string, leaderId: string, epoch: number): Promise<string | void>
}

/** A port whose engine runs in a worker of its own: it can be stopped at once and serve members. */
export type WorkerEnginePort = EnginePort & Required<Pick<EnginePort, 'terminate' | 'serveMembers'>>

/** The port's calls that transports forward: everything but closing and the worker-only extras. */
export type PortCall = Exclude<keyof EnginePort, 'close' | 'terminate' | 'serveMembers'>

/**
 * A parameter of a port call, by what it carries. Three are the transports' own business, not the
 * caller's: `transfer` (buffers moved to a worker instead of copied; the result's buffers move back
 * too), `requestKey` (set by whoever forwards a call that may arrive twice) and `options` (the
 * calling handle's durability and read-only right, set by src/client/handle-port.ts).
 */
export type PortParam = 'txId' | 'domain' | 'method' | 'args' | 'transfer' | 'requestKey' | 'options'

/**
 * What a port call does, for transports that must know before running it again or in order:
 * - `read` changes nothing: safe to run again on another engine;
 * - `write` changes the vault, or starts what will (a transaction);
 * - `end` ends a transaction: it belongs to that transaction, whose other calls the caller awaited;
 * - `domain` is `invoke`: what it does is the domain method's kind (src/protocol/method-kinds.ts).
 */
export type PortCallKind = 'read' | 'write' | 'end' | 'domain'

/** How one port call crosses a boundary: see {@link portCalls}. */
export interface PortCallSpec<M extends PortCall = PortCall> {
  readonly kind: PortCallKind
  /** The port method's parameters, in order (checked against {@link EnginePort} by their count). */
  readonly params: readonly PortParam[] & { length: Required<Parameters<EnginePort[M]>>['length'] }
}

/**
 * The port's calls, once. Adding a lifecycle call to the engine is one line here (plus the method on
 * {@link EnginePort} and the engine): every transport forwards it from this list.
 *
 * The engine itself ({@link EngineCalls}) takes the same parameters without `transfer`; tab messages
 * (src/protocol/tab-messages.ts) carry them without `transfer` and `requestKey`
 * (src/protocol/port-calls.ts converts between these forms).
 */
export const portCalls = {
  invoke: { kind: 'domain', params: ['txId', 'domain', 'method', 'args', 'transfer', 'requestKey', 'options'] },
  info: { kind: 'read', params: ['options'] },
  integrityCheck: { kind: 'read', params: [] },
  beginTransaction: { kind: 'write', params: ['options'] },
  commitTransaction: { kind: 'end', params: ['txId', 'requestKey'] },
  rollbackTransaction: { kind: 'end', params: ['txId'] },
  checkpoint: { kind: 'write', params: ['options'] },
  optimize: { kind: 'write', params: ['options'] },
} as const satisfies { readonly [M in PortCall]: PortCallSpec<M> }

/** The port's calls by name, in the order of {@link portCalls}. */
export const portCallNames = Object.keys(portCalls) as PortCall[]

/** True when `name` is one of the port's calls (a message from another thread or tab may name anything). */
export function isPortCall(name: unknown): name is PortCall {
  return typeof name === 'string' && Object.hasOwn(portCalls, name)
}

/**
 * The engine as transports reach it (src/engine/vault-engine.ts): the port's calls with the same
 * parameters less `transfer` (buffers only move between threads), and `close`.
 */
export interface EngineCalls extends Omit<EnginePort, 'invoke' | 'terminate' | 'serveMembers'> {
  invoke(txId: string | null, domain: string, method: string, args: unknown[], requestKey?: string, options?: CallOptions): Promise<unknown>
}
