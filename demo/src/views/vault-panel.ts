// The vault itself: where it lives, how big it is, whether the browser may evict it (persist()),
// and how many changes arrived from other tabs (vault.watch).
import type { Vault } from 'labvault'
import { button, byId } from './dom.js'

/** Draw storage, size, browser quota and persistence. */
export async function renderVaultPanel(vault: Vault): Promise<void> {
  const info = await vault.info()
  byId('storage').textContent = info.storage === 'opfs' ? 'OPFS (origin private file system)' : info.storage
  byId('vault-size').textContent = `${(info.sizeBytes / 1024).toFixed(0)} KiB`
  const storage = navigator.storage
  if (storage?.estimate) {
    const { usage = 0, quota = 0 } = await storage.estimate()
    byId('origin-usage').textContent = `${(usage / 1048576).toFixed(1)} MiB used of ${(quota / 1048576).toFixed(0)} MiB this origin may use`
  }
  byId('persisted').textContent = storage?.persisted ? ((await storage.persisted()) ? 'persistent: the browser will not evict it' : 'best effort: the browser may evict it under storage pressure') : 'unknown in this browser'
}

/** Wire the persist() button. */
export function wireVaultPanel(vault: Vault): void {
  byId('persist-actions').replaceChildren(
    button('Ask the browser to keep it (persist)', async () => {
      const granted = await navigator.storage?.persist?.()
      byId('persist-result').textContent = granted ? 'granted' : 'not granted (browsers grant it to bookmarked or installed sites, or after a prompt)'
      await renderVaultPanel(vault)
    }),
  )
}
