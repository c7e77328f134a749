// Writes demo/public/data/cells.csv: the demo's dataset, 300 synthetic cell measurements in three
// classes. Deterministic (a seeded generator), so the committed file is what this script prints;
// run it again only to change the data. Synthetic on purpose: no licence, no download.
import { writeFileSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'

// mulberry32: a small seeded generator; Box–Muller for normal draws.
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(15)
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())

// Class means and spreads: area, perimeter, intensity, roundness. The classes overlap, so models
// and hyperparameters score differently.
const classes = {
  healthy: { mean: [52, 27, 0.42, 0.86], sd: [9, 3.2, 0.09, 0.05] },
  inflamed: { mean: [66, 31, 0.55, 0.8], sd: [11, 3.8, 0.1, 0.06] },
  malignant: { mean: [78, 38, 0.5, 0.68], sd: [14, 5, 0.12, 0.08] },
}
const rows = []
for (const [label, { mean, sd }] of Object.entries(classes)) {
  for (let i = 0; i < 100; i++) rows.push([...mean.map((m, j) => m + sd[j] * normal()), label])
}
// Shuffle (Fisher–Yates) so ids do not follow the class.
for (let i = rows.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1))
  ;[rows[i], rows[j]] = [rows[j], rows[i]]
}
const lines = ['id,area,perimeter,intensity,roundness,label']
rows.forEach((r, id) => lines.push([id, r[0].toFixed(2), r[1].toFixed(2), r[2].toFixed(3), r[3].toFixed(3), r[4]].join(',')))
const out = resolve(import.meta.dirname, '../public/data/cells.csv')
mkdirSync(resolve(out, '..'), { recursive: true })
writeFileSync(out, lines.join('\n') + '\n')
console.log(`wrote ${rows.length} rows to ${out}`)
