// The runs table: every run of the experiment store (`vault.store.listRuns`, an Arrow table),
// sortable by any column and filtered by text; the runs ticked here feed the curves and comparison.
import type { Vault } from 'labvault'
import { byId, el, pct } from './dom.js'

/** One row of the runs table. */
export interface RunRow {
  runId: string
  name: string
  sweep: string
  model: string
  status: string
  valAccuracy: number | null
  testAccuracy: number | null
  steps: number | null
  durationMs: number | null
  createdAt: number
}

const COLUMNS: { key: keyof RunRow; label: string; format?: (v: unknown) => string }[] = [
  { key: 'name', label: 'run' },
  { key: 'sweep', label: 'sweep' },
  { key: 'model', label: 'model' },
  { key: 'status', label: 'status' },
  { key: 'valAccuracy', label: 'val acc', format: pct },
  { key: 'testAccuracy', label: 'test acc', format: pct },
  { key: 'steps', label: 'steps' },
  { key: 'durationMs', label: 'ms' },
  { key: 'createdAt', label: 'started', format: (v) => new Date(v as number).toLocaleTimeString() },
]

const parse = (text: unknown): Record<string, unknown> => (typeof text === 'string' && text ? (JSON.parse(text) as Record<string, unknown>) : {})
const num = (v: unknown) => (typeof v === 'number' ? v : null)

/** Read every run (newest first) with its config and summary unpacked. */
export async function loadRuns(vault: Vault): Promise<RunRow[]> {
  const table = await vault.store.listRuns({ limit: 1000 })
  return table.toArray().map((r) => {
    const row = r.toJSON() as Record<string, unknown>
    const config = parse(row.config)
    const summary = parse(row.summary)
    return {
      runId: String(row.runId),
      name: String(row.name),
      sweep: String(config.sweep ?? ''),
      model: String(config.model ?? ''),
      status: String(row.status),
      valAccuracy: num(summary.valAccuracy),
      testAccuracy: num(summary.testAccuracy),
      steps: num(summary.steps),
      durationMs: num(summary.durationMs),
      createdAt: Number(row.createdAt),
    }
  })
}

/** The runs table's state: sort, filter, selection. `onSelect` is told when the selection changes. */
export class RunsView {
  rows: RunRow[] = []
  readonly selected = new Set<string>()
  private sortKey: keyof RunRow = 'createdAt'
  private descending = true

  constructor(
    private readonly vault: Vault,
    private readonly onSelect: () => void,
  ) {
    byId<HTMLInputElement>('runs-filter').oninput = () => this.render()
  }

  async refresh(): Promise<void> {
    this.rows = await loadRuns(this.vault)
    this.render()
  }

  /** The rows the filter lets through, in the chosen order. */
  visible(): RunRow[] {
    const words = byId<HTMLInputElement>('runs-filter').value.toLowerCase().split(/\s+/).filter(Boolean)
    const rows = this.rows.filter((r) => words.every((w) => [r.name, r.sweep, r.model, r.status].join(' ').toLowerCase().includes(w)))
    const dir = this.descending ? -1 : 1
    return rows.sort((a, b) => {
      const x = a[this.sortKey]
      const y = b[this.sortKey]
      if (x === y) return 0
      if (x === null) return 1
      if (y === null) return -1
      return (x < y ? -1 : 1) * dir
    })
  }

  private render(): void {
    const head = el('tr', {}, el('th', {}, ''), ...COLUMNS.map((c) => {
      const arrow = c.key === this.sortKey ? (this.descending ? ' ▼' : ' ▲') : ''
      const th = el('th', { class: 'sortable', 'data-sort': c.key }, c.label + arrow)
      th.onclick = () => {
        this.descending = c.key === this.sortKey ? !this.descending : c.key !== 'name'
        this.sortKey = c.key
        this.render()
      }
      return th
    }))
    const body = this.visible().map((r) => {
      const box = el('input', { type: 'checkbox', checked: this.selected.has(r.runId), 'aria-label': `compare ${r.name}` })
      box.onchange = () => {
        if (box.checked) this.selected.add(r.runId)
        else this.selected.delete(r.runId)
        this.onSelect()
      }
      return el('tr', { 'data-run-id': r.runId, 'data-status': r.status }, el('td', {}, box), ...COLUMNS.map((c) => el('td', {}, c.format ? c.format(r[c.key]) : String(r[c.key] ?? '–'))))
    })
    byId('runs').replaceChildren(el('thead', {}, head), el('tbody', {}, ...body))
    byId('runs-count').textContent = `${body.length} of ${this.rows.length} runs`
  }

  /** The runs to plot: the ticked ones, else the latest completed ones. */
  plotted(limit = 8): RunRow[] {
    const picked = this.rows.filter((r) => this.selected.has(r.runId))
    return (picked.length > 0 ? picked : this.rows.filter((r) => r.status === 'completed')).slice(0, limit)
  }
}
