// Item lists against a plain model (docs/items.md, "Lists"): seeded rounds of random operations on
// the four kinds — appends at the end and at explicit indexes (replacing items, leaving gaps),
// appends that must be refused (and change nothing), reads at every index and range edge, list
// deletes through kept handles, and close + reopen — each answer compared with what a plain array
// per list says. Values come from hostile corners: lone surrogates, U+FEFF, NUL, astral text, the
// empty string; -0, subnormal and extreme float32 vectors; empty, duplicated and large files;
// records with `__proto__` fields, NaN, -0, bigint limits and nested values.
//
// Run on fs storage (shared and exclusive, strict and relaxed; reopened mid-round) and memory.
// Budget: LABVAULT_PROP_RUNS rounds per backend (default 4, a few seconds each). A failure names its
// seed; LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deleteVault, openVault, type AnyItemList, type EmbeddingList, type FileItem, type LocationOptions, type OpenVaultOptions, type Vault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 4)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0x11575)
const STEPS = 45
const DIM = 3

type Kind = 'document' | 'embedding' | 'file' | 'record'
const KINDS: Kind[] = ['document', 'embedding', 'file', 'record']
const FIELDS = ['__proto__', 'constructor', 'v']

/** A list as the model sees it: one entry per index, undefined for a gap. */
interface ModelList {
  name: string
  kind: Kind
  items: unknown[]
  /** Per index, the append that wrote it last (what item(i) names) and its session's name. */
  made: { start: number; end: number; session?: string }[]
  /** Took an append at an explicit index (documents may then overlap: text() is not compared). */
  upserted: boolean
  handle: AnyItemList
}

const TEXT_PIECES = ['a', 'Ω', '\uD800', '\uDFFF', '\uFEFF', '\u0000', '😀', ' ', 'word', '\u2028', '\u0301', '']
const FLOATS = [0, -0, 1, -1, 1e-45, -1e-45, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, 0.1, 123.456]
const RECORD_VALUES: unknown[] = [NaN, -0, 0, Infinity, -Infinity, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, '', '\uD800x', '\uFEFF', 'a\u0000b', null, true, [1, [2, [3]]], { k: 1 }, new Uint8Array([0, 255]), new Date(0), Number.MAX_SAFE_INTEGER, Number.MIN_VALUE]

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!
}

/** A random value of a kind, as given to append (the model keeps the same object: appends capture it). */
function randomValue(rand: () => number, kind: Kind, tag: number): unknown {
  switch (kind) {
    case 'document': {
      let s = ''
      const n = Math.floor(rand() * 5)
      for (let i = 0; i < n; i++) s += pick(rand, TEXT_PIECES)
      return s
    }
    case 'embedding':
      return Float32Array.from({ length: DIM }, () => pick(rand, FLOATS))
    case 'file': {
      // Sizes from empty to past the 64 KiB blob threshold; contents repeat, so blobs are shared.
      const size = pick(rand, [0, 1, 3, 70_000])
      const bytes = new Uint8Array(size).fill(tag % 3)
      return { bytes, name: pick(rand, ['', 'a.txt', '\uFEFF', 'x\u0000y', '😀']), type: pick(rand, ['', 'text/plain', 'image/png']) }
    }
    case 'record': {
      const r: Record<string, unknown> = {}
      for (const f of FIELDS) Object.defineProperty(r, f, { value: pick(rand, RECORD_VALUES), enumerable: true, writable: true, configurable: true })
      return r
    }
  }
}

/** Bad values of a kind: each append of one must be refused with InvalidArgumentError. */
function badValue(rand: () => number, kind: Kind): unknown {
  switch (kind) {
    case 'document':
      return pick(rand, [5, null, undefined, {}, 1n])
    case 'embedding':
      return pick(rand, [new Float32Array([1, 2]), new Float32Array([NaN, 0, 0]), new Float32Array([0, Infinity, 0]), ['1', '2', '3'], null, new Float32Array(0)])
    case 'file':
      return pick(rand, [null, 'bytes', { bytes: [1, 2] }, { bytes: new Uint8Array(1), name: 5 }])
    case 'record':
      return pick<unknown>(rand, [{ v: 1 }, { __proto__: null, constructor: 1, v: 1, extra: 2 }, [1, 2, 3], null, { constructor: 1, v: () => 1 }])
  }
}

/** Compare an answered item with the model's, by kind (exact: -0, NaN, lone surrogates and bytes). */
function assertItem(kind: Kind, got: unknown, want: unknown, where: string): void {
  if (want === undefined) {
    if (kind === 'embedding') assert.ok((got as Float32Array).every(Number.isNaN), `${where}: a gap reads as NaN`)
    else assert.equal(got, undefined, `${where}: a gap reads as undefined`)
    return
  }
  if (kind === 'embedding') {
    assert.ok(got instanceof Float32Array, `${where}: a Float32Array`)
    assert.deepEqual([...(got as Float32Array)].map((x) => (Object.is(x, -0) ? '-0' : x)), [...(want as Float32Array)].map((x) => (Object.is(x, -0) ? '-0' : x)), where)
  } else if (kind === 'file') {
    const f = got as FileItem
    const w = want as { bytes: Uint8Array; name: string; type: string }
    assert.deepEqual([f.name, f.type, f.size], [w.name, w.type, w.bytes.length], where)
    assert.ok(Buffer.from(f.bytes).equals(Buffer.from(w.bytes)), `${where}: bytes`)
  } else {
    assert.deepStrictEqual(got, want, where)
  }
}

function errorName(err: unknown): string {
  return err instanceof RangeError ? 'RangeError' : ((err as Error)?.name ?? String(err))
}

async function rejectsWith(p: Promise<unknown>, name: string, where: string): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.equal(errorName(err), name, `${where}: ${String(err)}`)
    return true
  })
}

async function round(seed: number, location: LocationOptions, open: OpenVaultOptions, reopen: boolean): Promise<void> {
  const rand = mulberry32(seed)
  const int = (n: number): number => Math.floor(rand() * n)
  const name = `model-${seed}`
  let v: Vault = await openVault(name, { ...location, ...open })
  const lists: ModelList[] = []
  const dead: ModelList[] = []
  let created = 0
  const create = async (kind: Kind): Promise<void> => {
    const listName = pick(rand, ['__proto__', '\uFEFF', 'l', 'ő😀', ' ']) + `${created++}`
    const options = kind === 'embedding' ? { type: kind, dim: DIM } : kind === 'record' ? { type: kind, fields: FIELDS } : { type: kind }
    const handle = await v.lists.create(listName, options as never)
    lists.push({ name: listName, kind, items: [], made: [], upserted: false, handle })
  }
  // Appends sometimes record a session (its name and code hostile too); item(i) must name it.
  const sessionName = `ŝ\uFEFF${seed}.ts`
  const session = await v.session(sessionName, { code: 'x\u0000 = 1 // \uFEFF😀' })
  const withSession = (): { session?: typeof session } => (rand() < 0.4 ? { session } : {})
  const record = (l: ModelList, start: number, end: number, options: { session?: unknown }): void => {
    for (let k = start; k < end; k++) l.made[k] = { start, end, ...(options.session ? { session: sessionName } : {}) }
  }
  try {
    for (const kind of KINDS) await create(kind)
    for (let step = 0; step < STEPS; step++) {
      const l = pick(rand, lists)
      const where = `seed ${seed} step ${step} ${l.kind} "${l.name}"`
      const r = rand()
      if (r < 0.3) {
        // Append 1–4 items at the end.
        const values = Array.from({ length: 1 + int(4) }, (_, i) => randomValue(rand, l.kind, step * 10 + i))
        if (l.kind === 'embedding' && rand() < 0.2) {
          // A matrix past the 64 KiB threshold (stored as a blob), the same bytes each time.
          const rows = 6000
          const matrix = new Float32Array(rows * DIM).map((_, k) => FLOATS[k % FLOATS.length]!)
          const options = withSession()
          assert.deepEqual(await (l.handle as EmbeddingList).appendMatrix(matrix, options), { start: l.items.length, end: l.items.length + rows }, where)
          record(l, l.items.length, l.items.length + rows, options)
          for (let k = 0; k < rows; k++) l.items.push(matrix.slice(k * DIM, (k + 1) * DIM))
          continue
        }
        const options = withSession()
        const got = await l.handle.appendMany(values as never, options)
        assert.deepEqual(got, { start: l.items.length, end: l.items.length + values.length }, where)
        record(l, l.items.length, l.items.length + values.length, options)
        l.items.push(...values)
      } else if (r < 0.4) {
        // At an explicit index: over items, just past the end, or leaving a gap.
        const values = Array.from({ length: 1 + int(3) }, (_, i) => randomValue(rand, l.kind, step * 10 + i))
        const index = int(l.items.length + 4)
        const options = { ...(l.kind === 'document' ? { index, start: int(20) } : { index }), ...withSession() }
        const got = await l.handle.appendMany(values as never, options)
        assert.deepEqual(got, { start: index, end: index + values.length }, where)
        record(l, index, index + values.length, options)
        values.forEach((x, i) => (l.items[index + i] = x))
        l.upserted = true
      } else if (r < 0.5) {
        // A refused append: a bad value among good ones. Nothing changes.
        let values = [randomValue(rand, l.kind, step), badValue(rand, l.kind)]
        if (rand() < 0.5) values.reverse()
        if (rand() < 0.3) {
          // Or good values around the holes of a sparse array (a hole is an undefined item).
          values = new Array(3 + int(2))
          values[0] = randomValue(rand, l.kind, step)
          values[values.length - 1] = randomValue(rand, l.kind, step + 1)
        }
        await rejectsWith(l.handle.appendMany(values as never), 'InvalidArgumentError', `${where} bad append`)
      } else if (r < 0.65) {
        // get at any index edge.
        const n = l.items.length
        const index = pick(rand, [0, -1, n - 1, n, -n, -n - 1, int(n + 2) - 1, 1.5, NaN, Infinity, -0])
        const i = Number.isInteger(index) ? (index < 0 ? n + index : index) : -1
        if (!Number.isInteger(index)) await rejectsWith(l.handle.get(index), 'InvalidArgumentError', `${where} get(${index})`)
        else if (i < 0 || i >= n) await rejectsWith(l.handle.get(index), 'RangeError', `${where} get(${index})`)
        else if (l.items[i] === undefined) await rejectsWith(l.handle.get(index), 'NotFoundError', `${where} get(${index}) of a gap`)
        else {
          assertItem(l.kind, await l.handle.get(index), l.items[i], `${where} get(${index})`)
          const info = await l.handle.item(index)
          const made = l.made[i]!
          assert.deepEqual([info.index, info.append, info.session?.name], [i, { start: made.start, end: made.end }, made.session], `${where} item(${index})`)
        }
      } else if (r < 0.8) {
        // slice with Array.prototype.slice's semantics (negative, reversed, past the end, omitted).
        const n = l.items.length
        const edge = (): number | undefined => pick(rand, [undefined, 0, -1, n, n + 3, -n - 2, int(n + 1), -int(n + 1)])
        const [s, e] = [edge(), edge()]
        const got = (await l.handle.slice(s, e)) as unknown[]
        const want = l.items.slice(s, e)
        // Array.prototype.slice keeps holes as holes: compare index by index.
        assert.equal(got.length, want.length, `${where} slice(${s}, ${e}) length`)
        for (let k = 0; k < want.length; k++) assertItem(l.kind, got[k], want[k], `${where} slice(${s}, ${e})[${k}]`)
      } else if (r < 0.85) {
        assert.equal(await l.handle.size(), l.items.length, `${where} size`)
        assert.equal((await v.lists.info(l.name)).length, l.items.length, `${where} info`)
        if (l.kind === 'document' && !l.upserted) {
          assert.equal(await (l.handle as never as { text(): Promise<string> }).text(), (l.items as string[]).join(''), `${where} text`)
        }
      } else if (r < 0.9) {
        // Delete a list; its kept handle then answers NotFoundError, and a new list takes its place.
        const i = lists.indexOf(l)
        assert.equal(await v.lists.delete(l.name), true, where)
        lists.splice(i, 1)
        dead.push(l)
        await rejectsWith(l.handle.size(), 'NotFoundError', `${where} size of deleted`)
        await rejectsWith(l.handle.append(randomValue(rand, l.kind, step) as never), 'NotFoundError', `${where} append to deleted`)
        await create(l.kind)
      } else if (reopen) {
        await v.close()
        v = await openVault(name, { ...location, ...open })
        for (const m of lists) m.handle = await v.lists.get(m.name)
      }
    }
    // Everything, once more, after a last reopen (or as is in memory).
    if (reopen) {
      await v.close()
      v = await openVault(name, { ...location, ...open })
    }
    assert.deepEqual((await v.lists.list()).map((i) => i.name), lists.map((m) => m.name), `seed ${seed}: live lists`)
    for (const m of lists) {
      const h = await v.lists.get(m.name)
      const got = (await h.slice()) as unknown[]
      assert.equal(got.length, m.items.length, `seed ${seed} final "${m.name}" length`)
      for (let k = 0; k < m.items.length; k++) assertItem(m.kind, got[k], m.items[k], `seed ${seed} final "${m.name}"[${k}]`)
      // item(k): the append that wrote it last and its session (every index, or 100 of a long list).
      const indexes = m.items.length <= 200 ? m.items.keys() : Array.from({ length: 100 }, () => int(m.items.length))
      for (const k of indexes) {
        const where = `seed ${seed} final "${m.name}" item(${k})`
        if (m.items[k] === undefined) {
          await rejectsWith(h.item(k), 'NotFoundError', where)
          continue
        }
        const info = await h.item(k)
        assert.deepEqual([info.index, info.append, info.session?.name], [k, { start: m.made[k]!.start, end: m.made[k]!.end }, m.made[k]!.session], where)
      }
    }
    for (const m of dead) assert.equal(await v.lists.has(m.name), false, `seed ${seed}: deleted "${m.name}"`)
  } finally {
    await v.close()
    await deleteVault(name, location)
  }
}

const dir = tempDir('labvault-items-model-')
const fs: LocationOptions = { storage: 'fs', path: dir }
const backends: [string, LocationOptions, OpenVaultOptions, boolean][] = [
  ['memory', { storage: 'memory' }, {}, false],
  ['fs shared strict', fs, { sharing: 'shared', durability: 'strict' }, true],
  ['fs shared relaxed', fs, { sharing: 'shared', durability: 'relaxed' }, true],
  ['fs exclusive relaxed', fs, { sharing: 'exclusive', durability: 'relaxed' }, true],
]

for (const [label, location, open, reopen] of backends) {
  test(`item lists answer as a plain model of arrays, with hostile values, refused appends, deletes${reopen ? ' and reopens' : ''}: ${label} (seed ${SEED}, ${RUNS} rounds)`, async () => {
    for (let run = 0; run < RUNS; run++) await round(SEED + run, location, open, reopen)
  })
}
