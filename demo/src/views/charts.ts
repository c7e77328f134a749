// Metric curves (the per-step typed columns of each run) and a comparison of runs' final scores,
// drawn with Observable Plot.
import * as Plot from '@observablehq/plot'
import type { Vault } from 'labvault'
import { byId, el } from './dom.js'
import type { RunRow } from './runs.js'

/** Read a run's per-step column (`<metric>/<runId>`), or an empty array before its first step. */
async function curve(vault: Vault, metric: string, runId: string): Promise<Float64Array> {
  const name = `${metric}/${runId}`
  if (!(await vault.columns.list()).some((c) => c.name === name)) return new Float64Array()
  return (await (await vault.columns.get(name)).slice(0)) as Float64Array
}

/** Draw the validation accuracy and loss curves of `runs`, and their final scores side by side. */
export async function renderCharts(vault: Vault, runs: RunRow[]): Promise<void> {
  const points: { run: string; step: number; valAccuracy: number; loss: number }[] = []
  for (const r of runs) {
    const [acc, loss] = await Promise.all([curve(vault, 'val_accuracy', r.runId), curve(vault, 'loss', r.runId)])
    acc.forEach((v, i) => points.push({ run: r.name, step: i + 1, valAccuracy: v, loss: loss[i] ?? NaN }))
  }
  const width = Math.min(760, byId('curves').clientWidth || 760)
  const line = (y: 'valAccuracy' | 'loss', label: string) =>
    Plot.plot({
      width: width / 2 - 8,
      height: 240,
      y: { label, grid: true },
      x: { label: 'step' },
      color: { legend: y === 'valAccuracy' },
      marks: [Plot.lineY(points, { x: 'step', y, stroke: 'run', tip: true })],
    })
  byId('curves').replaceChildren(...(points.length === 0 ? [el('p', {}, 'Train a sweep to see its curves.')] : [line('valAccuracy', 'validation accuracy'), line('loss', 'loss')]))
  byId('curves').dataset.points = String(points.length)

  const scores = runs.flatMap((r) =>
    r.valAccuracy === null
      ? []
      : [
          { run: r.name, partition: 'val', accuracy: r.valAccuracy },
          { run: r.name, partition: 'test', accuracy: r.testAccuracy ?? NaN },
        ],
  )
  byId('compare').replaceChildren(
    scores.length === 0
      ? el('p', {}, 'No finished run to compare yet.')
      : Plot.plot({
          width,
          height: 40 + 26 * runs.length,
          marginLeft: 170,
          x: { domain: [0, 1], label: 'accuracy', grid: true },
          y: { label: null },
          color: { legend: true },
          marks: [Plot.ruleY(scores, { y: 'run', stroke: '#eee' }), Plot.dot(scores, { x: 'accuracy', y: 'run', fill: 'partition', r: 5, tip: true })],
        }),
  )
}
