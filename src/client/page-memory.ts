import { MemoryAdapter } from '../storage/memory-adapter.js'

let memory: MemoryAdapter | undefined

/** This page's memory storage: the one `worker: false` vaults with `storage: 'memory'` use, and listVaults/deleteVault see. */
export function pageMemory(): MemoryAdapter {
  return (memory ??= new MemoryAdapter())
}
