// Search answers against a brute-force reference (docs/items.md, "Search"): seeded rounds append
// documents, records and vectors at the end and at explicit indexes (replacing items, leaving
// gaps), delete a list now and then, and after each batch compare `search.text`, `search.similar`
// and `search.items` (with `lists`, `limit`/`k`) with answers computed here from the items the
// round wrote: BM25 over every live item's tokens, cosine in float64. Texts come from hostile
// corners (combining marks and NFC/NFD, Turkish I, ß, Greek final sigma, CJK runs, emoji with ZWJ,
// `__proto__`/`constructor` as words, empty and long texts, a lone surrogate kept in a document,
// many duplicates); vectors from a small pool (exact ties) plus random and zero ones. The answers
// are also compared live against after close and reopen (the indexes rebuilt from the vault).
//
// Budget: LABVAULT_PROP_RUNS rounds (default 6, a few seconds). A failure prints its seed;
// LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault, type TextHit, type Vault } from '../../src/node.js'
import { recordText, tokenize } from '../../src/domains/items/engine/tokenize.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 6)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0x5ea4c4)
const dir = tempDir('labvault-search-prop-')

const WORDS = [
  'alpha', 'beta', 'Alpha', 'ALPHA', '__proto__', 'constructor', 'hasOwnProperty', 'toString',
  'café', 'cafe\u0301', 'İstanbul', 'istanbul', 'ıi', 'straße', 'STRASSE', 'ΟΔΟΣ', 'οδος', "ΟΔΟΣ'Α",
  '東京大学の研究', '東京', '👩‍👩‍👧', 'नमस्ते', 'ｔｅｓｔ', 'test', 'test_location', '42', '4２', 'ﬁle', 'file',
]

interface Model {
  name: string
  id: number
  type: 'document' | 'record' | 'embedding'
  dim?: number
  /** index → text (documents, records' searchable text) or vector. */
  items: Map<number, string | Float32Array>
  length: number
  chars: number
  deleted: boolean
}

const key = (h: TextHit): string => ('index' in h ? `${h.list}[${h.index}]` : JSON.stringify(h))

async function round(seed: number): Promise<void> {
  const rand = mulberry32(seed)
  const int = (n: number): number => Math.floor(rand() * n)
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!
  const name = `search-prop-${seed}`
  let v: Vault = await openVault(name, { storage: 'fs', path: dir })
  const lists: Model[] = []
  try {
    const specs: [string, Model['type'], number?][] = [['d0', 'document'], ['r0', 'record'], ['d1', 'document'], ['e0', 'embedding', 3], ['e1', 'embedding', 3], ['e2', 'embedding', 2]]
    for (const [n, type, dim] of specs) {
      await v.lists.create(n, type === 'embedding' ? { type, dim } : type === 'record' ? { type, fields: ['t', 'n'] } : { type })
      lists.push({ name: n, id: lists.length, type, dim, items: new Map(), length: 0, chars: 0, deleted: false })
    }
    const pool = Array.from({ length: 4 }, () => Float32Array.from({ length: 3 }, () => int(5) - 2))
    const text = (): string => {
      const r = rand()
      if (r < 0.05) return ''
      if (r < 0.08) return `${pick(WORDS)} `.repeat(2000 + int(2000))
      if (r < 0.1) return `a\uD800b ${pick(WORDS)}`
      return Array.from({ length: 1 + int(5) }, () => pick(WORDS)).join(pick([' ', ', ', '.', '\n', '']))
    }
    const vector = (dim: number): Float32Array => {
      const r = rand()
      if (r < 0.1) return new Float32Array(dim)
      if (r < 0.5 && dim === 3) return pool[int(pool.length)]!.slice()
      return Float32Array.from({ length: dim }, () => (rand() - 0.5) * 10 ** (int(7) - 3))
    }

    const batch = async (): Promise<void> => {
      for (let op = 0; op < 8; op++) {
        const live = lists.filter((l) => !l.deleted)
        const l = pick(live)
        const h = await v.lists.get(l.name)
        const explicit = rand() < 0.35
        const index = explicit ? (rand() < 0.7 ? int(l.length + 1) : l.length + int(5)) : l.length
        const count = 1 + int(3)
        const values: (string | Record<string, unknown> | Float32Array)[] = []
        const searchable: (string | Float32Array)[] = []
        for (let i = 0; i < count; i++) {
          if (l.type === 'embedding') {
            const x = vector(l.dim!)
            values.push(x)
            searchable.push(x)
          } else if (l.type === 'record') {
            const rec = { t: text(), n: int(3) === 0 ? 42 : int(100) }
            values.push(rec)
            searchable.push(recordText(rec).join(' '))
          } else {
            const t = text()
            values.push(t)
            searchable.push(t)
          }
        }
        const options: Record<string, unknown> = {}
        if (explicit) {
          options.index = index
          if (l.type === 'document') options.start = int(l.chars + 3)
        }
        await (h as unknown as { appendMany(v: unknown[], o: unknown): Promise<unknown> }).appendMany(values, options)
        searchable.forEach((s, i) => l.items.set(index + i, s))
        l.length = Math.max(l.length, index + count)
        if (l.type === 'document') {
          const span = values.reduce<number>((n, t) => n + [...(t as string)].length, 0)
          l.chars = Math.max(l.chars, ((options.start as number | undefined) ?? l.chars) + span)
        }
      }
      if (rand() < 0.1) {
        const l = pick(lists.filter((x) => !x.deleted && x.name !== 'd0' && x.name !== 'e0'))
        await v.lists.delete(l.name)
        l.deleted = true
      }
    }

    for (let b = 0; b < 6; b++) {
      await batch()
      const queries = makeQueries(lists, rand, int, pick, vector)
      const live = await answers(v, lists, queries, seed)
      if (b % 2 === 1) {
        await v.close()
        v = await openVault(name, { storage: 'fs', path: dir })
        const again = await answers(v, lists, queries, seed)
        assert.deepEqual(again, live, `seed ${seed}: answers after reopening differ from live`)
      }
    }
  } finally {
    await v.close()
  }
}

type Query =
  | { kind: 'text'; q: string; lists?: string[]; limit?: number }
  | { kind: 'similar'; q: Float32Array; lists?: string[]; k?: number }
  | { kind: 'itemsText'; q: string; lists?: string[]; k?: number }
  | { kind: 'itemsSimilar'; q: Float32Array; lists?: string[]; k?: number }

function makeQueries(
  lists: Model[],
  rand: () => number,
  int: (n: number) => number,
  pick: <T>(a: readonly T[]) => T,
  vector: (dim: number) => Float32Array,
): Query[] {
  const out: Query[] = []
  const live = lists.filter((l) => !l.deleted)
  const limit = (): number | undefined => pick([undefined, 0, 1, 2, 3, 5, 1000, 2 ** 53 - 1])
  const some = (type: 'text' | 'embedding', dim?: number): string[] | undefined => {
    if (rand() < 0.5) return undefined
    const c = live.filter((l) => (type === 'text' ? l.type !== 'embedding' : l.type === 'embedding' && l.dim === dim))
    return c.filter(() => rand() < 0.6).map((l) => l.name)
  }
  for (let i = 0; i < 8; i++) {
    const q = Array.from({ length: 1 + int(2) }, () => pick(WORDS)).join(' ')
    out.push({ kind: 'text', q, lists: some('text'), limit: limit() })
    out.push({ kind: 'itemsText', q, lists: some('text'), k: limit() })
  }
  for (let i = 0; i < 6; i++) {
    const dim = pick([3, 3, 2])
    let q = vector(dim)
    while (!q.some((x) => x !== 0)) q = vector(dim)
    out.push({ kind: 'similar', q, lists: some('embedding', dim), k: limit() })
    out.push({ kind: 'itemsSimilar', q, lists: some('embedding', dim), k: limit() })
  }
  return out
}

/** Every query's answer, checked against the reference; returns the answers (for live vs reopened). */
async function answers(v: Vault, lists: Model[], queries: Query[], seed: number): Promise<string[][]> {
  const out: string[][] = []
  for (const query of queries) {
    const where = `seed ${seed}: ${query.kind} ${JSON.stringify(query.kind.endsWith('ext') ? query.q : Array.from(query.q as Float32Array))} lists ${JSON.stringify(query.lists)}`
    let hits: TextHit[]
    if (query.kind === 'text') hits = await v.search.text(query.q, { lists: query.lists, limit: query.limit })
    else if (query.kind === 'itemsText') hits = await v.search.items({ text: query.q, lists: query.lists, k: query.k })
    else if (query.kind === 'similar') hits = await v.search.similar(query.q, { lists: query.lists, k: query.k })
    else hits = await v.search.items({ similar: query.q, lists: query.lists, k: query.k })
    const n = query.kind === 'text' ? query.limit : query.k
    const ref = query.kind === 'text' || query.kind === 'itemsText' ? bm25(lists, query.q, query.lists) : cosines(lists, query.q, query.lists)
    compare(hits, ref, n ?? 10, lists, query.kind.endsWith('ext') ? 1e-9 : 1e-5, where)
    out.push(hits.map((h) => `${key(h)} ${h.score}`))
  }
  return out
}

interface Ref {
  list: Model
  index: number
  score: number
}

/** BM25 (k1 1.2, b 0.75) over every live document and record; items holding every query token. */
function bm25(lists: Model[], query: string, only: string[] | undefined): Ref[] {
  const docs: { list: Model; index: number; tokens: string[] }[] = []
  for (const l of lists) {
    if (l.deleted || l.type === 'embedding') continue
    for (const [index, t] of l.items) docs.push({ list: l, index, tokens: tokenize(t as string) })
  }
  const terms = [...new Set(tokenize(query))]
  if (terms.length === 0) return []
  const n = docs.length
  const avg = docs.reduce((s, d) => s + d.tokens.length, 0) / n
  const df = new Map(terms.map((t) => [t, docs.filter((d) => d.tokens.includes(t)).length]))
  const out: Ref[] = []
  for (const d of docs) {
    if (only && !only.includes(d.list.name)) continue
    if (!terms.every((t) => d.tokens.includes(t))) continue
    const norm = 1.2 * (1 - 0.75 + (0.75 * d.tokens.length) / avg)
    let score = 0
    for (const t of terms) {
      const tf = d.tokens.filter((x) => x === t).length
      const idf = Math.log(1 + (n - df.get(t)! + 0.5) / (df.get(t)! + 0.5))
      score += (idf * tf * 2.2) / (tf + norm)
    }
    out.push({ list: d.list, index: d.index, score })
  }
  return out
}

/** Cosine in float64 with every vector of the query's dimension (a zero vector scores 0). */
function cosines(lists: Model[], q: Float32Array, only: string[] | undefined): Ref[] {
  const norm = (x: Float32Array): number => Math.sqrt(x.reduce((s, a) => s + a * a, 0))
  const out: Ref[] = []
  for (const l of lists) {
    if (l.deleted || l.type !== 'embedding' || l.dim !== q.length || (only && !only.includes(l.name))) continue
    for (const [index, x] of l.items) {
      const vx = x as Float32Array
      const d = norm(vx) * norm(q)
      out.push({ list: l, index, score: d === 0 ? 0 : vx.reduce((s, a, j) => s + a * q[j]!, 0) / d })
    }
  }
  return out
}

/**
 * The hits are the reference's best `k`: each a distinct item of the reference with its score (to
 * `tol`), in score order, equal scores by list (oldest first) then index, and none left out that
 * scores more than the last one kept.
 */
function compare(hits: TextHit[], ref: Ref[], k: number, lists: Model[], tol: number, where: string): void {
  const byKey = new Map(ref.map((r) => [`${r.list.name}[${r.index}]`, r]))
  const id = new Map(lists.map((l) => [l.name, l.id]))
  assert.equal(hits.length, Math.min(k, ref.length), `${where}: ${hits.length} hits, reference ${Math.min(k, ref.length)}`)
  const seen = new Set<string>()
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!
    assert.ok('index' in h, `${where}: an item hit`)
    const r = byKey.get(key(h))
    assert.ok(r, `${where}: ${key(h)} is not a match`)
    assert.ok(!seen.has(key(h)), `${where}: ${key(h)} twice`)
    seen.add(key(h))
    assert.ok(Math.abs(r.score - h.score) <= tol * Math.max(1, Math.abs(r.score)), `${where}: ${key(h)} scores ${h.score}, reference ${r.score}`)
    if (i > 0) {
      const p = hits[i - 1]! as { list: string; index: number; score: number }
      assert.ok(p.score >= h.score, `${where}: not best first at ${i}`)
      if (p.score === h.score) {
        const order = id.get(p.list)! - id.get(h.list)! || p.index - (h as { index: number }).index
        assert.ok(order < 0, `${where}: equal scores out of order: ${key(p)} before ${key(h)}`)
      }
    }
  }
  if (hits.length > 0 && hits.length < ref.length) {
    const last = hits.at(-1)!.score
    for (const r of ref) {
      if (seen.has(`${r.list.name}[${r.index}]`)) continue
      assert.ok(r.score <= last + tol * Math.max(1, Math.abs(last)), `${where}: ${r.list.name}[${r.index}] (${r.score}) left out, the last kept scores ${last}`)
    }
  }
}

test('search answers match a brute-force reference, live and after reopening (seeded)', async () => {
  for (let r = 0; r < RUNS; r++) {
    const seed = SEED + r
    try {
      await round(seed)
    } catch (err) {
      console.error(`search property round failed: LABVAULT_PROP_SEED=${seed}`)
      throw err
    }
  }
})

