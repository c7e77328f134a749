import { ConflictError } from '../errors/errors.js'
import type { VaultEngine, EngineOptions } from '../engine/vault-engine.js'
import { openVaultEngine } from '../domains/registry.js'

/**
 * Options that belong to the engine, not to a handle: every handle of one engine must agree.
 * (`readOnly` and `durability` are per handle: each call carries them; src/client/handle-port.ts.)
 */
export interface EngineLevelOptions {
  checkpointBytes?: number
  processLeaseMs?: number
  sharing?: 'shared' | 'exclusive'
  lockTimeoutMs?: number
  lockLeaseMs?: number
}

/** What an option left out means (the engine's and the lock's defaults). */
const defaults: Required<EngineLevelOptions> = {
  checkpointBytes: 16 * 1024 * 1024,
  processLeaseMs: 10_000,
  sharing: 'shared',
  lockTimeoutMs: 10_000,
  lockLeaseMs: 5000,
}

interface Entry {
  engine: Promise<VaultEngine>
  users: number
  settings: Required<EngineLevelOptions>
}

const byAdapter = new WeakMap<object, Map<string, Entry>>()

function effective(o: EngineLevelOptions): Required<EngineLevelOptions> {
  const out = { ...defaults }
  for (const k of Object.keys(defaults) as (keyof EngineLevelOptions)[]) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k]
  return out
}

/**
 * One engine per vault per realm: a second `openVault` of a vault that is already open here shares
 * its engine (two engines appending to one log would interleave records). The engine closes when
 * its last handle closes. An engine-level option given explicitly that differs from the open
 * engine's is refused with ConflictError (it cannot hold for this handle alone).
 */
export async function acquireEngine(key: object, options: Omit<EngineOptions, 'domains'>, engineLevel: EngineLevelOptions): Promise<{ engine: VaultEngine; release(): Promise<void> }> {
  let vaults = byAdapter.get(key)
  if (!vaults) byAdapter.set(key, (vaults = new Map()))
  let entry = vaults.get(options.name)
  if (!entry || (await entry.engine.then((e) => e.isClosed, () => true))) {
    entry = { engine: openVaultEngine(options), users: 0, settings: effective(engineLevel) }
    vaults.set(options.name, entry)
    entry.engine.catch(() => vaults!.get(options.name) === entry && vaults!.delete(options.name))
  } else {
    for (const [k, v] of Object.entries(engineLevel) as [keyof EngineLevelOptions, unknown][]) {
      if (v !== undefined && v !== entry.settings[k]) {
        throw new ConflictError(
          `vault "${options.name}" is already open in this process with ${k}: ${JSON.stringify(entry.settings[k])}; ` +
            `a second handle cannot have ${k}: ${JSON.stringify(v)} (it is the engine's, shared by every handle). Leave it out or close the other handle first`,
        )
      }
    }
  }
  entry.users++
  const mine = entry
  let engine: VaultEngine
  try {
    engine = await entry.engine
  } catch (err) {
    mine.users--
    throw err
  }
  let released = false
  return {
    engine,
    release: async () => {
      if (released) return
      released = true
      if (--mine.users === 0) {
        if (vaults!.get(options.name) === mine) vaults!.delete(options.name)
        await engine.close()
      }
    },
  }
}

/** Whether the vault `name` of this storage has an engine open in this realm (importVault refuses to replace it). */
export function engineOpenHere(key: object, name: string): boolean {
  return byAdapter.get(key)?.has(name) ?? false
}
