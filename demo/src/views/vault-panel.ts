// The vault itself: where it lives, how big it is, whether the browser may evict it (persist()),
// and export / import of the whole vault.
import { exportVault, importVault, type Vault } from 'labvault'
import { button, byId, showError } from './dom.js'

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

/**
 * Wire export and import of the whole vault: `exportVault` makes one zip (a consistent snapshot,
 * taken while this and other tabs keep writing) offered as a download; `importVault` makes a new
 * vault from such a file (checked entry by entry: a bad file writes nothing), then links to it.
 */
export function wireArchive(name: string): void {
  const status = byId('archive-status')
  byId('export-actions').replaceChildren(
    button(
      'Export the whole vault',
      async () => {
        const started = performance.now()
        const bytes = await exportVault(name, { onProgress: (p) => (status.textContent = `exporting… ${(p.bytes / 1024).toFixed(0)} KiB`) })
        const link = byId<HTMLAnchorElement>('export-link')
        if (link.href) URL.revokeObjectURL(link.href)
        link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }))
        link.download = `${name}.labvault.zip`
        link.textContent = `${name}.labvault.zip (${(bytes.length / 1024).toFixed(0)} KiB)`
        status.textContent = `exported in ${(performance.now() - started).toFixed(0)} ms`
        link.click()
      },
      { id: 'export' },
    ),
  )
  byId<HTMLFormElement>('import-form').onsubmit = async (e) => {
    e.preventDefault()
    const file = byId<HTMLInputElement>('import-file').files?.[0]
    const target = byId<HTMLInputElement>('import-name').value.trim()
    const done = byId<HTMLAnchorElement>('import-done')
    done.textContent = ''
    try {
      if (!file) throw new Error('Choose an exported .zip file first')
      await importVault(target, file, { onProgress: (p) => (status.textContent = `importing… ${(p.bytes / 1024).toFixed(0)} KiB`) })
      status.textContent = `imported "${target}"`
      done.href = `?vault=${encodeURIComponent(target)}`
      done.textContent = `open "${target}"`
    } catch (err) {
      status.textContent = ''
      showError(err)
    }
  }
}
