// Lineage walks over a long chain (Node items bench): N items appended one by one, item i with
// item i - 1 of the same list as its parent (`itemParents`), then `lineage.ancestors` of the last
// item, which walks the whole chain (depth N). Once appended at the end, once at explicit indexes
// (`index: i`: a list that took such appends reads through the general path, where appends may
// overlap). Each step looks up the parents of one item: the lookup must cost about the same at
// every step, so the walk grows linearly with N (a lookup that scanned every edge from the start
// of the list, as the general path did, made it quadratic).
import { timeRuns } from './stats.mjs'

export const CHAIN_SIZES = [2000, 8000]

const WAYS = {
  'at the end': () => ({}),
  'at explicit indexes': (i) => ({ index: i }),
}

const key = (n, way) => `labvault lineage.ancestors of the last item of a ${n}-item chain appended ${way} (depth ${n})`

const spreadKey = (n) => `labvault lineage.ancestors of ${n / 2} items, each from one item of an ${n}-item append (depth 2)`

export async function runLineageChain({ open, remove, log = () => {} }) {
  const results = {}
  for (const [way, place] of Object.entries(WAYS)) for (const n of CHAIN_SIZES) {
    const name = `bench-lineage-chain-${n}`
    await remove(name)
    const v = await open(name)
    try {
      log(`lineage: a chain of ${n} items appended ${way}`)
      const chain = await v.lists.create('chain', { type: 'record', fields: ['step'] })
      await chain.appendMany([{ step: 0 }], place(0))
      for (let i = 1; i < n; i++) await chain.appendMany([{ step: i }], { ...place(i), itemParents: [[{ list: 'chain', start: i - 1 }]] })
      results[key(n, way)] = await timeRuns(
        async () => {
          const nodes = await v.lineage.ancestors('chain', { start: n - 1, end: n, depth: n })
          if (nodes.length !== n - 1) throw new Error(`ancestors: ${nodes.length} nodes, expected ${n - 1}`)
        },
        { runs: 3, warmup: 1 },
      )
    } finally {
      await v.close()
      await remove(name)
    }
  }
  // Every other item of one N-item append as the frontier: N / 2 separate one-item ranges inside
  // one append (mid), each with its own parent in src; top[j] derives from mid[2j].
  for (const n of CHAIN_SIZES) {
    const name = `bench-lineage-spread-${n}`
    await remove(name)
    const v = await open(name)
    try {
      log(`lineage: every other item of a ${n}-item append`)
      const src = await v.lists.create('src', { type: 'record', fields: ['i'] })
      await src.appendMany(Array.from({ length: n }, (_, i) => ({ i })))
      const mid = await v.lists.create('mid', { type: 'record', fields: ['i'] })
      await mid.appendMany(Array.from({ length: n }, (_, i) => ({ i })), { itemParents: Array.from({ length: n }, (_, i) => [{ list: 'src', start: i }]) })
      const top = await v.lists.create('top', { type: 'record', fields: ['i'] })
      await top.appendMany(Array.from({ length: n / 2 }, (_, i) => ({ i })), { itemParents: Array.from({ length: n / 2 }, (_, j) => [{ list: 'mid', start: 2 * j }]) })
      results[spreadKey(n)] = await timeRuns(
        async () => {
          const nodes = await v.lineage.ancestors('top', { depth: 2 })
          if (nodes.length !== n) throw new Error(`ancestors: ${nodes.length} nodes, expected ${n}`)
        },
        { runs: 3, warmup: 1 },
      )
    } finally {
      await v.close()
      await remove(name)
    }
  }
  const [small, large] = CHAIN_SIZES
  const growth = large / small
  // Linear growth gives about `growth`; a quadratic walk gives about growth².
  const checks = Object.keys(WAYS).map((way) => {
    const ratio = results[key(large, way)].median / results[key(small, way)].median
    return { figure: `ancestors time, ${large}-item chain / ${small}-item chain, appended ${way}`, value: ratio, bar: `< ${growth * 2} (linear ≈ ${growth}, quadratic ≈ ${growth * growth})`, pass: ratio < growth * 2 }
  })
  const spread = results[spreadKey(large)].median / results[spreadKey(small)].median
  checks.push({ figure: `ancestors time, every other item of a ${large}-item append / of a ${small}-item append`, value: spread, bar: `< ${growth * 2} (linear ≈ ${growth}, quadratic ≈ ${growth * growth})`, pass: spread < growth * 2 })
  return { results, checks }
}
