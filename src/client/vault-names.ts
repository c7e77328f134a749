import { readManifest } from '../persistence/manifest.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'

/** Names of the folders under the adapter's root that hold a vault (a readable manifest). */
export async function listVaultNames(storage: StorageAdapter): Promise<string[]> {
  const names: string[] = []
  for (const name of await storage.list('')) {
    try {
      if (await readManifest(storage, name)) names.push(name)
    } catch {
      names.push(name) // a vault of a newer format is still a vault
    }
  }
  return names
}
