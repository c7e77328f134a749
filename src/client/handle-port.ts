import type { CallOptions } from '../protocol/engine-types.js'
import { UnsupportedError } from '../errors/errors.js'
import { portCallNames, type EnginePort, type PortCall } from '../protocol/engine-port.js'
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
  const handle: EnginePort = { ...port }
  for (const call of portCallNames) {
    const at = paramIndex(call, 'options', 'port')
    if (at < 0) continue
    const target = port[call] as (...args: unknown[]) => Promise<unknown>
    ;(handle as unknown as Record<string, unknown>)[call] = (...args: unknown[]) => {
      if (options.readOnly && changesVault(call, args, 'port')) {
        const what = userNames[call] ?? describeCall(call, args, 'port')
        return Promise.reject(new UnsupportedError(`vault "${vaultName}" is open read-only by this handle: ${what} refused`))
      }
      args[at] = options
      return target.apply(port, args)
    }
  }
  return handle
}
