// Lineage answers against a brute-force reference (docs/items.md, "lineage"): seeded rounds build
// lists with random `parents` and `itemParents` (item ranges, and character ranges of a document
// list), appended at the end or, on some lists, at explicit indexes (overlapping appends, replaced
// items, gaps), and every `parents`, `children`, `ancestors` and `descendants` answer is compared
// with one computed here from the edges the round made, item by item.
//
// Budget: LABVAULT_PROP_RUNS rounds (default 12, a few seconds). A failure prints its seed;
// LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault, type LineageEdge, type LineageNode } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 12)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0x5eed1a9e)

interface Edge {
  child: string
  cs: number
  ce: number
  parent: string
  ps: number
  pe: number
  chars?: { start: number; end: number }
}

interface ListModel {
  name: string
  /** Takes appends at explicit indexes (the general path) as well as at the end. */
  upserts: boolean
  /** Indexes holding an item (gaps are absent). */
  items: Set<number>
  length: number
}

/** The source documents: appended at the end only, so their character positions are known. */
interface Docs {
  /** [start, end) in characters of each document. */
  spans: [number, number][]
  chars: number
}

async function round(seed: number): Promise<void> {
  const rand = mulberry32(seed)
  const int = (n: number): number => Math.floor(rand() * n)
  const v = await openVault(`lineage-prop-${seed}`, { storage: 'memory' })
  try {
    const docs: Docs = { spans: [], chars: 0 }
    const src = await v.lists.create('src', { type: 'document' })
    const lists: ListModel[] = [{ name: 'src', upserts: false, items: new Set(), length: 0 }]
    const handles = new Map<string, typeof src | Awaited<ReturnType<typeof v.lists.create>>>([['src', src]])
    for (let i = 0; i < 3; i++) {
      const name = `r${i}`
      handles.set(name, await v.lists.create(name, { type: 'record', fields: ['v'] }))
      lists.push({ name, upserts: rand() < 0.5, items: new Set(), length: 0 })
    }
    const edges: Edge[] = []

    /** A parent range of existing items (no gap), or a character range of src; undefined if none. */
    const pickParent = (): { spec: Record<string, unknown>; edge: Omit<Edge, 'child' | 'cs' | 'ce'> } | undefined => {
      if (docs.chars > 0 && rand() < 0.25) {
        const cs = int(docs.chars)
        const ce = Math.min(docs.chars, cs + 1 + int(12))
        const covered = docs.spans.map((s, i) => [s, i] as const).filter(([[a, b]]) => a < ce && b > cs).map(([, i]) => i)
        return { spec: { list: 'src', start: cs, end: ce, unit: 'chars' }, edge: { parent: 'src', ps: covered[0]!, pe: covered.at(-1)! + 1, chars: { start: cs, end: ce } } }
      }
      const l = lists[int(lists.length)]!
      if (l.items.size === 0) return undefined
      const present = [...l.items]
      const a = present[int(present.length)]!
      let b = a + 1
      const want = 1 + int(3)
      while (b - a < want && l.items.has(b)) b++
      return { spec: { list: l.name, start: a, end: b }, edge: { parent: l.name, ps: a, pe: b } }
    }
    const pickParents = (max: number): ReturnType<typeof pickParent>[] =>
      Array.from({ length: int(max + 1) }, pickParent).filter((p) => p !== undefined)

    for (let op = 0; op < 40; op++) {
      const l = lists[int(lists.length)]!
      const n = 1 + int(4)
      const explicit = l.upserts && rand() < 0.6
      const start = explicit ? int(l.length + 3) : l.length
      const end = start + n
      const whole = pickParents(2)
      const perItem = rand() < 0.6 ? Array.from({ length: n }, () => pickParents(2)) : undefined
      const options: Record<string, unknown> = {}
      if (whole.length > 0) options.parents = whole.map((p) => p!.spec)
      if (perItem) options.itemParents = perItem.map((ps) => ps.map((p) => p!.spec))
      if (explicit) options.index = start
      if (l.name === 'src') {
        const texts = Array.from({ length: n }, () => 'abcdefgh'.slice(0, 1 + int(8)))
        await handles.get('src')!.appendMany(texts as never, options as never)
        for (const t of texts) {
          docs.spans.push([docs.chars, docs.chars + t.length])
          docs.chars += t.length
        }
      } else {
        await handles.get(l.name)!.appendMany(Array.from({ length: n }, (_, i) => ({ v: op * 10 + i })) as never, options as never)
      }
      // Replaced items leave every edge that named them as children (docs/items.md): an edge of a
      // larger append keeps its items before and after them.
      if ([...l.items].some((i) => i >= start && i < end)) {
        for (let i = edges.length - 1; i >= 0; i--) {
          const x = edges[i]!
          if (x.child !== l.name || x.ce <= start || x.cs >= end) continue
          const pieces = [...(x.cs < start ? [{ ...x, ce: start }] : []), ...(x.ce > end ? [{ ...x, cs: end }] : [])]
          edges.splice(i, 1, ...pieces)
        }
      }
      for (const p of whole) edges.push({ child: l.name, cs: start, ce: end, ...p!.edge })
      perItem?.forEach((ps, i) => ps.forEach((p) => edges.push({ child: l.name, cs: start + i, ce: start + i + 1, ...p!.edge })))
      for (let i = start; i < end; i++) l.items.add(i)
      l.length = Math.max(l.length, end)
    }

    const overlaps = (a: number, b: number, c: number, d: number): boolean => a < d && c < b
    const key = (e: Edge | LineageEdge): string =>
      'cs' in e ? `${e.child}[${e.cs},${e.ce})<-${e.parent}[${e.ps},${e.pe})${e.chars ? `c${e.chars.start},${e.chars.end}` : ''}` : `${e.child}[${e.childStart},${e.childEnd})<-${e.parent}[${e.parentStart},${e.parentEnd})${e.parentChars ? `c${e.parentChars.start},${e.parentChars.end}` : ''}`
    const listIds = new Map(lists.map((l, i) => [l.name, i]))

    /** Items reached first at each depth, item by item. */
    const walk = (list: string, s: number, e: number, depth: number, up: boolean): string[] => {
      const seen = new Set<string>()
      let frontier: [string, number][] = []
      for (let i = s; i < e; i++) {
        seen.add(`${list}:${i}`)
        frontier.push([list, i])
      }
      const out: string[] = []
      for (let d = 1; d <= depth && frontier.length > 0; d++) {
        const next: [string, number][] = []
        for (const [l, i] of frontier) {
          for (const edge of edges) {
            const [from, fs, fe, to, ts, te] = up ? [edge.child, edge.cs, edge.ce, edge.parent, edge.ps, edge.pe] : [edge.parent, edge.ps, edge.pe, edge.child, edge.cs, edge.ce]
            if (from !== l || i < fs || i >= fe) continue
            for (let j = ts; j < te; j++) {
              if (seen.has(`${to}:${j}`)) continue
              seen.add(`${to}:${j}`)
              next.push([to, j])
              out.push(`${to}:${j}@${d}`)
            }
          }
        }
        frontier = next
      }
      return out.sort()
    }
    const items = (nodes: LineageNode[]): string[] => nodes.flatMap((n) => Array.from({ length: n.end - n.start }, (_, k) => `${n.list}:${n.start + k}@${n.depth}`)).sort()

    for (let q = 0; q < 30; q++) {
      const l = lists[int(lists.length)]!
      if (l.length === 0) continue
      const s = int(l.length)
      const e = rand() < 0.3 ? s : Math.min(l.length, s + 1 + int(5))
      const [qs, qe] = e === s ? [s, s + 1] : [s, e]
      const what = `seed ${seed}, ${l.name} [${s}, ${e})`

      const parents = await v.lineage.parents(l.name, { start: s, end: e })
      const wantParents = edges.filter((x) => x.child === l.name && overlaps(x.cs, x.ce, qs, qe)).map(key).sort()
      assert.deepEqual(parents.map(key).sort(), wantParents, `parents, ${what}`)
      for (let i = 1; i < parents.length; i++) {
        const [a, b] = [parents[i - 1]!, parents[i]!]
        assert.ok(a.childStart < b.childStart || (a.childStart === b.childStart && (listIds.get(a.parent)! < listIds.get(b.parent)! || (a.parent === b.parent && a.parentStart <= b.parentStart))), `parents in order, ${what}`)
      }
      const children = await v.lineage.children(l.name, { start: s, end: e })
      assert.deepEqual(children.map(key).sort(), edges.filter((x) => x.parent === l.name && overlaps(x.ps, x.pe, qs, qe)).map(key).sort(), `children, ${what}`)

      const depth = rand() < 0.5 ? 1 + int(4) : 64
      assert.deepEqual(items(await v.lineage.ancestors(l.name, { start: s, end: e, depth })), walk(l.name, qs, qe, depth, true), `ancestors depth ${depth}, ${what}`)
      assert.deepEqual(items(await v.lineage.descendants(l.name, { start: s, end: e, depth })), walk(l.name, qs, qe, depth, false), `descendants depth ${depth}, ${what}`)
    }
  } finally {
    await v.close()
  }
}

test('lineage queries and walks match a brute-force reference over random lists, parents and replacements (seeded)', async () => {
  for (let r = 0; r < RUNS; r++) {
    const seed = (SEED + r * 0x9e3779b1) >>> 0
    try {
      await round(seed)
    } catch (err) {
      throw new Error(`round failed; replay: LABVAULT_PROP_SEED=${seed} LABVAULT_PROP_RUNS=1 node --import tsx --test test/node/items-lineage-property.test.ts\n${(err as Error).stack ?? err}`)
    }
  }
})
