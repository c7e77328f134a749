import { create, insertMultiple, search } from '@orama/orama'
import { textCorpus } from './lib/workloads.mjs'
import { latencies } from './lib/stats.mjs'
const { docs, queries } = textCorpus(100_000, { queries: 30 })
let t = performance.now()
const db = await create({ schema: { text: 'string' } })
await insertMultiple(db, docs.map((text) => ({ text })))
console.log('index', performance.now() - t)
for (const [label, opts] of [['exact+thr0', { exact: true, threshold: 0 }], ['thr0', { threshold: 0 }], ['default', {}]]) {
  const counts = []
  const l = await latencies(10, async (i) => counts.push((await search(db, { term: queries[i], properties: ['text'], limit: 10, ...opts })).count))
  console.log(label, l, counts.join(','))
}
