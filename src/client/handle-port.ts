import type { CallOptions } from '../protocol/engine-types.js'
import { UnsupportedError } from '../errors/errors.js'
import { portCallNames, type EnginePort, type PortCall } from '../protocol/engine-port.js'
import { methodKind } from '../protocol/method-kinds.js'
import { changesVault, describeCall, paramIndex } from '../protocol/port-calls.js'

/** How a refusal names a call the user made under another name. */
const userNames: Partial<Record<PortCall, string>> = { beginTransaction: 'transaction' }

/**
 * One handle's view of a port: several handles may share one engine (two `openVault` of one vault
 * in a process; tabs whose calls the leader runs), and each keeps its own options. Every call that
 * takes options (src/protocol/engine-port.ts) carries the handle's durability and read-only right,
 * which the engine honours per call (a strict write is synced even when the engine was opened
 * relaxed). A read-only handle's writes are refused here, by kind, before anything is sent; the
 * engine refuses them too.
 */
export function handlePort(port: EnginePort, options: Required<CallOptions>, vaultName: string): EnginePort {
  const refuse = (what: string) => Promise.reject(new UnsupportedError(`vault "${vaultName}" is open read-only by this handle: ${what} refused`))
  const handle: Record<string, unknown> = { ...port }
  for (const call of portCallNames) {
    const at = paramIndex(call, 'options', 'port')
    if (at < 0) continue
    const target = port[call] as (...args: unknown[]) => Promise<unknown>
    handle[call] = (...args: unknown[]) => {
      if (options.readOnly && changesVault(call, args, 'port')) return refuse(userNames[call] ?? describeCall(call, args, 'port'))
      args[at] = options
      return target.apply(port, args)
    }
  }
  // Every domain call is an `invoke`: written out, it costs a kv.get no allocation (the generic
  // form above builds an argument array). Same rule: a write is refused by its method's kind.
  const invoke: EnginePort['invoke'] = (txId, domain, method, args, transfer, requestKey) => {
    if (options.readOnly && methodKind(domain, method) === 'write') return refuse(`${domain}.${method}`)
    return port.invoke(txId, domain, method, args, transfer, requestKey, options)
  }
  return { ...(handle as unknown as EnginePort), invoke }
}
