import { portCalls, portCallNames, type PortCall, type PortParam } from './engine-port.js'
import { methodKind } from './method-kinds.js'

/**
 * What transports need to know about a port call, read from its entry in `portCalls`
 * (src/protocol/engine-port.ts) so that no transport lists the calls or their parameters again.
 *
 * A call's arguments come in three forms:
 * - `port`: as {@link EnginePort} takes them;
 * - `engine`: as the engine takes them ({@link EngineCalls}): no `transfer`;
 * - `call`: as a tab message carries them: no `transfer` and no `requestKey` either (the member
 *   that runs a forwarded call gives it its key).
 *
 * @see EnginePort
 * @see EngineCalls
 */
export type ArgsForm = 'port' | 'engine' | 'call'

const forms: readonly ArgsForm[] = ['port', 'engine', 'call']
const allParams: readonly PortParam[] = ['txId', 'domain', 'method', 'args', 'transfer', 'requestKey', 'options']

function paramsIn(call: PortCall, form: ArgsForm): readonly PortParam[] {
  const params: readonly PortParam[] = portCalls[call].params
  if (form === 'port') return params
  return params.filter((p) => p !== 'transfer' && (form === 'engine' || p !== 'requestKey'))
}

/** Slot `i` of a converted form takes the source argument at `plan[i]`, or the request key (KEY), or nothing. */
const KEY = -1
const NOTHING = -2

/** A record with an entry per key, each made by `make`. */
function table<K extends string, V>(keys: readonly K[], make: (key: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((k) => [k, make(k)])) as Record<K, V>
}

/** Per call, per source form, per target form: where each target argument comes from. */
const plans = table(portCallNames, (call) =>
  table(forms, (from) => {
    const source = paramsIn(call, from)
    return table(forms, (to) => paramsIn(call, to).map((p) => (source.includes(p) ? source.indexOf(p) : p === 'requestKey' ? KEY : NOTHING)))
  }),
)

/**
 * `args` of `call`, given in form `from`, in form `to`. A request key missing from `from` is set
 * to `requestKey`; a transfer list missing is left undefined.
 */
export function convertArgs(call: PortCall, args: readonly unknown[], from: ArgsForm, to: ArgsForm, requestKey?: string): unknown[] {
  const plan = plans[call][from][to]
  const out: unknown[] = new Array(plan.length)
  for (let i = 0; i < plan.length; i++) {
    const at = plan[i]!
    out[i] = at >= 0 ? args[at] : at === KEY ? requestKey : undefined
  }
  return out
}

/** Per call, per form: where each parameter is (-1: not there). Looked up on every call, so computed once. */
const slots = table(portCallNames, (call) => table(forms, (form) => table(allParams, (p) => paramsIn(call, form).indexOf(p))))

/** Where parameter `param` of `call` is in form `form`, or -1. */
export function paramIndex(call: PortCall, param: PortParam, form: ArgsForm): number {
  return slots[call][form][param]
}

/** The buffers a port call moves instead of copying (its `transfer` argument), if any. */
export function transferListOf(call: PortCall, portArgs: readonly unknown[]): Transferable[] | undefined {
  const at = slots[call].port.transfer
  const list = at >= 0 ? (portArgs[at] as Transferable[] | undefined) : undefined
  return list?.length ? list : undefined
}

/** True when the buffers in the call's result move back to the caller's thread (as its arguments' do). */
export function resultMovesBuffers(call: PortCall): boolean {
  return slots[call].port.transfer >= 0
}

/** The kind of the domain method a domain call (`invoke`) names, its args in form `form`. */
function domainMethodKind(call: PortCall, args: readonly unknown[], form: ArgsForm) {
  const at = slots[call][form]
  return methodKind(args[at.domain] as string, args[at.method] as string)
}

/** True when a domain call runs inside a transaction. */
function inTransaction(call: PortCall, args: readonly unknown[], form: ArgsForm): boolean {
  return args[slots[call][form].txId] !== null
}

/**
 * True when the call changes nothing, so it is safe to run again on another engine (a member
 * re-sends it to a new leader; see src/sharing/tabs/tab-sharing.ts). A domain call inside a
 * transaction is not: the transaction dies with its engine.
 */
export function isRerunnable(call: PortCall, args: readonly unknown[], form: ArgsForm): boolean {
  const { kind } = portCalls[call]
  if (kind !== 'domain') return kind === 'read'
  return !inTransaction(call, args, form) && domainMethodKind(call, args, form) === 'read'
}

/** True when the call would change the vault: a read-only handle refuses it before sending it. */
export function changesVault(call: PortCall, args: readonly unknown[], form: ArgsForm): boolean {
  const { kind } = portCalls[call]
  if (kind !== 'domain') return kind === 'write'
  return domainMethodKind(call, args, form) === 'write'
}

/**
 * How a forwarded call orders against the same member's other calls (src/sharing/tabs/member-server.ts):
 * a `write` waits for the member's previous write and is waited for; a `read` waits for the
 * previous write only; a `free` call neither waits nor is waited for: the calls of an open
 * transaction (the member awaits each already, and a plain write it left unawaited waits for that
 * transaction: holding them behind it would deadlock) and `wait` calls (a watch's long poll, a
 * paused process's checkpoint).
 */
export function callOrder(call: PortCall, args: readonly unknown[], form: ArgsForm): 'read' | 'write' | 'free' {
  const { kind } = portCalls[call]
  if (kind === 'end') return 'free'
  if (kind !== 'domain') return kind
  if (inTransaction(call, args, form)) return 'free'
  const k = domainMethodKind(call, args, form)
  return k === 'wait' ? 'free' : k === 'write' ? 'write' : 'read'
}

/** The call as errors name it: `kv.set` for a domain call, else the port method. */
export function describeCall(call: PortCall, args: readonly unknown[], form: ArgsForm): string {
  if (portCalls[call].kind !== 'domain') return call
  const at = slots[call][form]
  return `${String(args[at.domain])}.${String(args[at.method])}`
}
