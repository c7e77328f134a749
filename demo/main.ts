// The demo page, built by Vite exactly as a user's app would use the package:
// the worker through Vite's `?worker` import and the wasm through `?url`.
import { openVault } from 'labvault'
import VaultWorker from 'labvault/worker?worker'
import wasmUrl from 'labvault/sql-wasm.wasm?url'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

async function main() {
  const vault = await openVault('demo', { worker: new VaultWorker(), wasmUrl, author: 'demo page' })
  ;(window as unknown as { vault: typeof vault }).vault = vault
  const notes = vault.kv('notes')

  const visits = await vault.transaction(async (tx) => {
    const n = ((await tx.kv().get('visits')) as number | undefined) ?? 0
    await tx.kv().set('visits', n + 1)
    return n + 1
  })
  $('visits').textContent = String(visits)

  async function render() {
    const body = $('notes').querySelector('tbody')!
    body.replaceChildren()
    for (const [key, value] of await notes.entries()) {
      const row = document.createElement('tr')
      const del = document.createElement('button')
      del.textContent = 'delete'
      del.onclick = async () => {
        await notes.delete(key)
        await render()
      }
      row.append(cell(String(key)), cell(JSON.stringify(value)), cell(del))
      body.append(row)
    }
    const info = await vault.info()
    $('storage').textContent = info.storage === 'opfs' ? 'OPFS (origin private file system)' : info.storage
    $('info').textContent = JSON.stringify(info, null, 2)
  }

  $<HTMLFormElement>('note-form').onsubmit = async (e) => {
    e.preventDefault()
    const key = $<HTMLInputElement>('note-key').value
    const raw = $<HTMLInputElement>('note-value').value
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      value = raw
    }
    await notes.set(key, value)
    await render()
  }

  $('bulk').onclick = async () => {
    const t = performance.now()
    const n = await vault.kv('bulk').setMany(Array.from({ length: 100_000 }, (_, i) => [`row:${i}`, { i, loss: Math.random() }] as const))
    $('bulk-result').textContent = `${n.toLocaleString()} entries written durably in ${(performance.now() - t).toFixed(0)} ms`
    await render()
  }

  await render()
  document.body.dataset.ready = 'true'
}

function cell(content: string | HTMLElement) {
  const td = document.createElement('td')
  td.append(content)
  return td
}

main().catch((err) => {
  document.body.dataset.ready = 'error'
  const p = document.createElement('p')
  p.className = 'error'
  p.textContent = String(err?.stack ?? err)
  document.body.prepend(p)
})
