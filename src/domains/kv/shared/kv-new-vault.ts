import { checkKey, checkNamespace } from './kv-keys.js'

/**
 * The key-value engine's answer to a read on a vault that holds no data, for the reads whose whole
 * answer that is: `get` finds nothing (undefined) and `has` is false, for any namespace and key the
 * engine would accept. A page that knows its vault is new answers these without waiting for its
 * engine to open (src/sharing/tabs/tab-sharing.ts, "A new vault"). Undefined when the read is not
 * one of these, or its arguments are ones the engine would refuse: the engine then answers (with
 * its own typed error), exactly as it would have.
 */
export function newVaultRead(method: unknown, args: unknown): { value: undefined | false } | undefined {
  if ((method !== 'get' && method !== 'has') || !Array.isArray(args) || args.length !== 2) return undefined
  try {
    checkNamespace(args[0])
    checkKey(args[1])
  } catch {
    return undefined
  }
  return { value: method === 'get' ? undefined : false }
}
