/**
 * Call order on item lists, as a seeded property: a round issues a random sequence of calls on
 * four lists (document, embedding, file, record; through two handles each and `vault.lists`)
 * WITHOUT awaiting any, then awaits them all and checks every result against a model that applies
 * the calls in program order: a read sees every append issued before it and none issued after it.
 * Appends include files (their bytes go to the blob store first, Blobs are read first), large
 * embedding matrices (stored as blobs), appends at an explicit index (overwriting) and appends
 * that fail (which change nothing and let no later call overtake them).
 *
 * Environment-neutral (see ./vault-conformance.ts): used by the items conformance suite (Node
 * memory and fs, Chromium through the worker) and by test/node/items-order.test.ts (fast-check seeds).
 */
import { mulberry32 } from '../support/prng.js'
import type { AnyItemList, EmbeddingList, FileItem, FileItemList, ItemLists, RecordList, Vault } from '../../src/shared-exports.js'

const DIM = 32
/** Vectors per large matrix: 600 × 32 × 4 bytes = 76.8 KB, over the 64 KiB blob threshold. */
const LARGE_ROWS = 600

type Kind = 'document' | 'embedding' | 'file' | 'record'
const KINDS: Kind[] = ['document', 'embedding', 'file', 'record']

/** The model's form of an item: cheap to compare and print. */
type Summary = string

interface Lists {
  lists: ItemLists
  /** Two handles per list: calls on either take effect in call order. */
  handles: Record<Kind, [AnyItemList, AnyItemList]>
  names: Record<Kind, string>
}

type Step = {
  what: string
  issue: (l: Lists) => Promise<unknown>
  /** What program order says the call answers (the model is changed by appends). */
  expect: (model: Record<Kind, Summary[]>) => unknown
  /** The result in the model's form. */
  show?: (got: unknown) => unknown
}

function vectorSummary(v: Float32Array): Summary {
  return `v(${v[0]},${v[DIM - 1]})`
}

function fileSummary(f: FileItem): Summary {
  return `f(${f.name},${f.size},${f.bytes[0]},${f.bytes[f.bytes.length - 1]})`
}

function summary(kind: Kind, value: unknown): Summary {
  if (kind === 'embedding') return vectorSummary(value as Float32Array)
  if (kind === 'file') return fileSummary(value as FileItem)
  return JSON.stringify(value)
}

/** An error's class name, a value's summary otherwise. */
function errorName(err: unknown): string {
  return err instanceof RangeError ? 'RangeError' : ((err as Error)?.name ?? String(err))
}

/** One random value for a list of `kind`, and its summary. */
function randomValue(rand: () => number, kind: Kind, tag: number): [unknown, Summary] {
  switch (kind) {
    case 'document': {
      const s = `d${tag}`
      return [s, JSON.stringify(s)]
    }
    case 'embedding': {
      const v = new Float32Array(DIM).fill(tag)
      v[DIM - 1] = -tag
      return [v, vectorSummary(v)]
    }
    case 'file': {
      // Sizes from empty to over the kv blob threshold; given as bytes or as a Blob (read first).
      const size = [0, 1, 5, 70_000, 300_000][Math.floor(rand() * 5)]!
      const bytes = new Uint8Array(size)
      if (size > 0) {
        bytes[0] = tag % 256
        bytes[size - 1] = (tag * 7) % 256
      }
      const name = `n${tag}`
      const value = rand() < 0.4 && typeof Blob !== 'undefined' ? new File([bytes], name) : { bytes, name }
      return [value, `f(${name},${size},${bytes[0]},${bytes[size - 1]})`]
    }
    case 'record': {
      const r = { a: tag, b: rand() < 0.5 ? `s${tag}` : null }
      return [r, JSON.stringify(r)]
    }
  }
}

/** One random call, with what the model says it returns. */
function randomStep(rand: () => number, round: number, i: number, lens: Record<Kind, number>): Step {
  const kind = KINDS[Math.floor(rand() * KINDS.length)]!
  const h = rand() < 0.5 ? 0 : 1
  const on = (l: Lists) => l.handles[kind][h]
  const tag = round * 100 + i + 1
  const r = rand()
  if (r < 0.3) {
    const [value, s] = randomValue(rand, kind, tag)
    lens[kind]++
    return {
      what: `${kind}[${h}].append(${s})`,
      issue: (l) => (on(l) as { append(v: unknown): Promise<number> }).append(value),
      expect: (m) => m[kind].push(s) - 1,
    }
  }
  if (r < 0.42) {
    if (kind === 'embedding' && rand() < 0.5) {
      // A matrix large enough to go to the blob store before its write.
      const matrix = new Float32Array(LARGE_ROWS * DIM)
      for (let j = 0; j < LARGE_ROWS; j++) {
        matrix[j * DIM] = tag + j / 1000
        matrix[j * DIM + DIM - 1] = -tag
      }
      lens[kind] += LARGE_ROWS
      const ss = Array.from({ length: LARGE_ROWS }, (_, j) => vectorSummary(matrix.subarray(j * DIM, (j + 1) * DIM)))
      return {
        what: `embedding[${h}].appendMatrix(${LARGE_ROWS} × ${DIM}, tag ${tag})`,
        issue: (l) => (on(l) as EmbeddingList).appendMatrix(matrix),
        expect: (m) => {
          const start = m[kind].length
          m[kind].push(...ss)
          return JSON.stringify({ start, end: start + ss.length })
        },
        show: (got) => JSON.stringify(got),
      }
    }
    const n = 1 + Math.floor(rand() * 3)
    const pairs = Array.from({ length: n }, (_, j) => randomValue(rand, kind, tag * 10 + j))
    lens[kind] += n
    return {
      what: `${kind}[${h}].appendMany(${pairs.map((p) => p[1])})`,
      issue: (l) => (on(l) as { appendMany(v: unknown[]): Promise<unknown> }).appendMany(pairs.map((p) => p[0])),
      expect: (m) => {
        const start = m[kind].length
        m[kind].push(...pairs.map((p) => p[1]))
        return JSON.stringify({ start, end: start + n })
      },
      show: (got) => JSON.stringify(got),
    }
  }
  if (r < 0.48 && (kind === 'file' || kind === 'record')) {
    // An append at an explicit index: replaces an item (or appends at the end, never a gap).
    const at = Math.floor(rand() * (lens[kind] + 1))
    const [value, s] = randomValue(rand, kind, tag)
    if (at === lens[kind]) lens[kind]++
    return {
      what: `${kind}[${h}].append(${s}, { index: ${at} })`,
      issue: (l) => (on(l) as { append(v: unknown, o: unknown): Promise<number> }).append(value, { index: at }),
      expect: (m) => {
        m[kind][at] = s
        return at
      },
    }
  }
  if (r < 0.53) {
    // An append that fails (wrong fields, dimension, bytes, a document index without start): it
    // changes nothing, and no call made after it runs before it.
    const bad: Record<Kind, unknown> = { document: 'x', embedding: new Float32Array(DIM + 1), file: { bytes: 'no' }, record: { a: 1 } }
    const options = kind === 'document' ? { index: 0 } : undefined
    return {
      what: `${kind}[${h}].append(<bad>)`,
      issue: (l) => (on(l) as { append(v: unknown, o: unknown): Promise<number> }).append(bad[kind], options),
      expect: () => 'InvalidArgumentError',
    }
  }
  if (r < 0.68) {
    const at = Math.floor(rand() * 8) - 3
    return {
      what: `${kind}[${h}].get(${at})`,
      issue: (l) => on(l).get(at),
      expect: (m) => {
        const k = at < 0 ? m[kind].length + at : at
        return k >= 0 && k < m[kind].length ? m[kind][k] : 'RangeError'
      },
      show: (got) => summary(kind, got),
    }
  }
  if (r < 0.78) return { what: `${kind}[${h}].size()`, issue: (l) => on(l).size(), expect: (m) => m[kind].length }
  if (r < 0.84) {
    return { what: `lists.info(${kind}).length`, issue: async (l) => (await l.lists.info(l.names[kind])).length, expect: (m) => m[kind].length }
  }
  if (r < 0.94) {
    const s = Math.floor(rand() * 4)
    const e = s + Math.floor(rand() * 4)
    if (kind === 'embedding') {
      return {
        what: `embedding[${h}].matrix(${s}, ${e})`,
        issue: (l) => (on(l) as EmbeddingList).matrix(s, e),
        expect: (m) => JSON.stringify(m[kind].slice(s, e)),
        show: (got) => {
          const g = got as Float32Array
          return JSON.stringify(Array.from({ length: g.length / DIM }, (_, j) => vectorSummary(g.subarray(j * DIM, (j + 1) * DIM))))
        },
      }
    }
    return {
      what: `${kind}[${h}].slice(${s}, ${e})`,
      issue: (l) => on(l).slice(s, e),
      expect: (m) => JSON.stringify(m[kind].slice(s, e)),
      show: (got) => JSON.stringify((got as unknown[]).map((x) => summary(kind, x))),
    }
  }
  if (kind === 'file') {
    const at = Math.floor(rand() * 4)
    return {
      what: `file[${h}].bytes(${at})`,
      issue: async (l) => (await (on(l) as FileItemList).bytes(at)).length,
      expect: (m) => (at < m.file.length ? Number(/,(\d+),/.exec(m.file[at]!)![1]) : 'RangeError'),
    }
  }
  return { what: `lists.list()`, issue: async (l) => (await l.lists.list()).filter((x) => x.name === l.names[kind]).map((x) => x.length)[0], expect: (m) => m[kind].length }
}

/**
 * Run `rounds` rounds of `steps` unawaited calls each on four new lists of `vault` (named with
 * `prefix`), seeded by `seed`; throws an Error naming the seed, the round, the calls issued and
 * the first result that differs from program order.
 */
export async function checkItemsCallOrder(vault: Vault, prefix: string, seed: number, rounds: number, steps: number): Promise<void> {
  const rand = mulberry32(seed)
  const names = { document: `${prefix}-docs`, embedding: `${prefix}-vecs`, file: `${prefix}-files`, record: `${prefix}-recs` }
  const created = {
    document: await vault.lists.create(names.document, { type: 'document' }),
    embedding: await vault.lists.create(names.embedding, { type: 'embedding', dim: DIM }),
    file: await vault.lists.create(names.file, { type: 'file' }),
    record: (await vault.lists.create(names.record, { type: 'record', fields: ['a', 'b'] })) as RecordList,
  }
  const handles = {} as Lists['handles']
  for (const kind of KINDS) handles[kind] = [created[kind], await vault.lists.get(names[kind])]
  const lists: Lists = { lists: vault.lists, handles, names }
  const model: Record<Kind, Summary[]> = { document: [], embedding: [], file: [], record: [] }
  // The lists' lengths as the plan goes (an explicit index is drawn up to the length then: no gaps).
  const lens: Record<Kind, number> = { document: 0, embedding: 0, file: 0, record: 0 }
  for (let round = 0; round < rounds; round++) {
    const plan = Array.from({ length: steps }, (_, i) => randomStep(rand, round, i, lens))
    // Issue everything first (no await in between), then compare each result with the model.
    const results = await Promise.allSettled(plan.map((s) => s.issue(lists)))
    const log = plan.map((s) => s.what)
    for (let i = 0; i < plan.length; i++) {
      const step = plan[i]!
      const expected = step.expect(model)
      const settled = results[i]!
      const got = settled.status === 'rejected' ? errorName(settled.reason) : step.show ? step.show(settled.value) : settled.value
      if (got !== expected) {
        const why = settled.status === 'rejected' ? ` (${String(settled.reason)})` : ''
        throw new Error(`seed ${seed} round ${round}: call ${i} ${step.what} returned ${String(got)}${why}, program order says ${String(expected)}\n  calls: ${log.join('; ')}`)
      }
    }
  }
}

/** A hit as `list:index` (cheap to compare and print). */
function hitsOf(hits: unknown): string[] {
  return (hits as { list: string; index: number }[]).map((h) => `${h.list}:${h.index}`)
}

/**
 * Reads issued before `lists.delete`, unawaited, answer as if the delete had not happened yet, and
 * the reads issued after it do not see the list (docs/items.md, "Call order"). Round 0 runs on a
 * vault whose search, lineage and sessions were never used (their clients and the search indexes
 * are cold: the first call loads them, and must not let the delete pass it); round 1 on new lists
 * once they are warm (the new list's vectors, a large matrix in the blob store, load at its first
 * search). `vault` must be new.
 */
export async function checkReadsBeforeDelete(vault: Vault, prefix: string): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const docsName = `${prefix}-${round}-docs`
    const vecsName = `${prefix}-${round}-vecs`
    const session = await vault.session(`${prefix}-${round}-embedder`, { code: `vectors = embed${round}(docs)` })
    const docs = await vault.lists.create(docsName, { type: 'document' })
    await docs.appendMany([`hello world ${round}`, `hello there ${round}`], { session, description: `greetings${round}` })
    const vecs = (await vault.lists.create(vecsName, { type: 'embedding', dim: DIM })) as EmbeddingList
    // Row 0 is the query's direction, every other row is orthogonal to it: the top 1 is row 0.
    const matrix = new Float32Array(LARGE_ROWS * DIM)
    matrix[0] = 1
    for (let j = 1; j < LARGE_ROWS; j++) matrix[j * DIM + 1 + (j % (DIM - 1))] = 1
    await vecs.appendMatrix(matrix, { session, parents: [{ list: docsName, start: 0, end: 2 }] })
    const query = new Float32Array(DIM)
    query[0] = 1
    const reads: [string, () => Promise<unknown>, (got: unknown) => unknown, unknown][] = [
      ['search.text', () => vault.search.text('hello'), (g) => hitsOf(g).sort(), [`${docsName}:0`, `${docsName}:1`]],
      ['search.similar', () => vault.search.similar(query, { k: 1 }), hitsOf, [`${vecsName}:0`]],
      ['search.items({ similar })', () => vault.search.items({ similar: query, k: 1 }), hitsOf, [`${vecsName}:0`]],
      ['search.items({ text })', () => vault.search.items({ text: 'there' }), hitsOf, [`${docsName}:1`]],
      ['search.descriptions', () => vault.search.descriptions(`greetings${round}`), (g) => (g as { list: string }[]).map((h) => h.list), [docsName]],
      ['search.code', () => vault.search.code(`embed${round}`), (g) => (g as unknown[]).length, 2 + LARGE_ROWS],
      ['lineage.parents', () => vault.lineage.parents(vecsName, { start: 0, end: 1 }), (g) => (g as { parent: string }[]).map((e) => e.parent), [docsName]],
      ['docs.get(1)', () => docs.get(1), (g) => g, `hello there ${round}`],
      ['vecs.slice(0, 2)', () => vecs.slice(0, 2), (g) => (g as Float32Array[]).map((v) => v.indexOf(1)), [0, 2]],
      ['lists.info(docs).length', async () => (await vault.lists.info(docsName)).length, (g) => g, 2],
    ]
    // Issued in this order, none awaited: every read, the deletes, then reads that must miss the lists.
    const before = reads.map(([, issue]) => issue())
    const deletes = [vault.lists.delete(docsName), vault.lists.delete(vecsName)]
    const after = [vault.search.text('hello'), vault.search.similar(query, { k: 1 })]
    const settled = await Promise.allSettled(before)
    for (let i = 0; i < reads.length; i++) {
      const [what, , show, expected] = reads[i]!
      const s = settled[i]!
      const got = s.status === 'rejected' ? `rejected: ${String(s.reason)}` : JSON.stringify(show(s.value))
      if (got !== JSON.stringify(expected)) throw new Error(`round ${round}: ${what} issued before lists.delete answered ${got}, program order says ${JSON.stringify(expected)}`)
    }
    const deleted = await Promise.all(deletes)
    if (!deleted.every((d) => d === true)) throw new Error(`round ${round}: lists.delete answered ${JSON.stringify(deleted)}`)
    const [text, similar] = await Promise.all(after)
    if (text.length !== 0 || similar.length !== 0) throw new Error(`round ${round}: searches issued after lists.delete still see the lists: ${JSON.stringify([hitsOf(text), hitsOf(similar)])}`)
  }
}
