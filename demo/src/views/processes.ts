// Processes: the sweeps and runs training now, in this tab or any other (`vault.processes.active`),
// with pause, resume and stop. A signal reaches the run at its next checkpoint, wherever it runs.
import type { ProcessInfo, Vault } from 'labvault'
import { button, byId, el } from './dom.js'

function progressText(p: ProcessInfo): string {
  const pr = p.progress as { step?: number; steps?: number; run?: number; runs?: number } | null
  if (pr?.steps) return `step ${pr.step}/${pr.steps}`
  if (pr?.runs) return `run ${(pr.run ?? 0) + 1}/${pr.runs}`
  return ''
}

/** Redraw the table of active processes. */
export async function renderProcesses(vault: Vault): Promise<void> {
  const active = await vault.processes.active()
  const rows = active.map((p) =>
    el(
      'tr',
      { 'data-process': p.name, 'data-status': p.status },
      el('td', {}, p.name),
      el('td', { class: 'status' }, p.status + (p.request ? ` (${p.request} requested)` : '')),
      el('td', {}, progressText(p)),
      el(
        'td',
        {},
        p.status === 'paused' ? button('resume', () => vault.processes.resume(p.id), { class: 'resume' }) : button('pause', () => vault.processes.pause(p.id), { class: 'pause' }),
        ' ',
        button('stop', () => vault.processes.stop(p.id), { class: 'stop' }),
      ),
    ),
  )
  byId('processes').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'process'), el('th', {}, 'status'), el('th', {}, 'progress'), el('th', {}, ''))),
    el('tbody', {}, ...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 4 }, 'Nothing is running.'))])),
  )
}
