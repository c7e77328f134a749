// Processes: the sweeps and runs training now, in this tab or any other (`vault.processes.active`),
// with pause, resume and stop. A signal reaches the run at its next checkpoint, wherever it runs.
// Rows are updated in place (a run checkpoints many times a second): a button being clicked is
// never swapped for a new one under the pointer.
import type { ProcessInfo, Vault } from 'labvault'
import { button, byId, el } from './dom.js'

function progressText(p: ProcessInfo): string {
  const pr = p.progress as { step?: number; steps?: number; run?: number; runs?: number } | null
  if (pr?.steps) return `step ${pr.step}/${pr.steps}`
  if (pr?.runs) return `run ${Math.min(pr.runs, (pr.run ?? 0) + 1)}/${pr.runs}`
  return ''
}

interface Row {
  tr: HTMLTableRowElement
  status: HTMLTableCellElement
  progress: HTMLTableCellElement
  toggle: HTMLButtonElement
}

const rows = new Map<string, Row>()

function makeRow(vault: Vault, p: ProcessInfo): Row {
  const status = el('td', { class: 'status' })
  const progress = el('td')
  // One button that pauses or resumes, as the process's status says when it is clicked.
  const toggle = button('pause', async () => ((await vault.processes.get(p.id)).status === 'paused' ? vault.processes.resume(p.id) : vault.processes.pause(p.id)), { class: 'pause' })
  const stop = button('stop', () => vault.processes.stop(p.id), { class: 'stop' })
  const tr = el('tr', { 'data-process': p.name }, el('td', {}, p.name), status, progress, el('td', {}, toggle, ' ', stop))
  return { tr, status, progress, toggle }
}

/** Bring the table of active processes up to date. */
export async function renderProcesses(vault: Vault): Promise<void> {
  const active = await vault.processes.active()
  const body = byId('processes').querySelector('tbody') ?? initTable()
  const live = new Set(active.map((p) => p.id))
  for (const [id, row] of rows) {
    if (!live.has(id)) {
      row.tr.remove()
      rows.delete(id)
    }
  }
  for (const p of active) {
    let row = rows.get(p.id)
    if (!row) {
      row = makeRow(vault, p)
      rows.set(p.id, row)
      body.append(row.tr)
    }
    row.tr.dataset.status = p.status
    row.status.textContent = p.status + (p.request ? ` (${p.request} requested)` : '')
    row.progress.textContent = progressText(p)
    const paused = p.status === 'paused'
    row.toggle.textContent = paused ? 'resume' : 'pause'
    row.toggle.className = paused ? 'resume' : 'pause'
  }
  byId('processes-empty').hidden = active.length > 0
}

function initTable(): HTMLTableSectionElement {
  const body = el('tbody')
  byId('processes').replaceChildren(el('thead', {}, el('tr', {}, el('th', {}, 'process'), el('th', {}, 'status'), el('th', {}, 'progress'), el('th', {}, ''))), body)
  return body
}
