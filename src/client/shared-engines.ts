import { VaultEngine, type EngineOptions } from '../engine/vault-engine.js'

interface Entry {
  engine: Promise<VaultEngine>
  users: number
}

const byAdapter = new WeakMap<object, Map<string, Entry>>()

/**
 * One engine per vault per realm: a second `openVault` of a vault that is already open here shares
 * its engine (two engines appending to one log would interleave records). The engine closes when
 * its last handle closes.
 */
export async function acquireEngine(key: object, options: EngineOptions): Promise<{ engine: VaultEngine; release(): Promise<void> }> {
  let vaults = byAdapter.get(key)
  if (!vaults) byAdapter.set(key, (vaults = new Map()))
  let entry = vaults.get(options.name)
  if (!entry || (await entry.engine.then((e) => e.isClosed, () => true))) {
    entry = { engine: VaultEngine.open(options), users: 0 }
    vaults.set(options.name, entry)
    entry.engine.catch(() => vaults!.get(options.name) === entry && vaults!.delete(options.name))
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
