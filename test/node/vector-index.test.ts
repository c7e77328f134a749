/**
 * The vector index's top-k (src/domains/items/engine/vector-index.ts): the quantised filter must give exactly the
 * rows and scores that scoring every row with the float32 kernel gives, ranked by score and then
 * by row. Checked against a brute-force reference on random, clustered, duplicated and skewed
 * data, several dimensions (padded and not) and several k.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ListMatrix, unitVector, writtenMatrix } from '../../src/domains/items/engine/vector-index.js'
import { mulberry32 } from '../support/prng.js'

/** Every row's exact float32 score (the kernel's full pass), best k by score, then row. */
function reference(m: ListMatrix, query: Float32Array, k: number): [number, number][] {
  const scores = Array.from(m.scoreAll(query), (s, r) => [s, r] as [number, number])
  return scores.sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k)
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

type Shape = 'random' | 'clustered' | 'duplicates' | 'skewed'

function data(shape: Shape, n: number, dim: number, seed: number): Float32Array {
  const rand = mulberry32(seed)
  const out = new Float32Array(n * dim)
  const centres = Array.from({ length: 8 }, () => Float32Array.from({ length: dim }, () => gaussian(rand)))
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < dim; j++) {
      let x = gaussian(rand)
      if (shape === 'clustered') x = centres[r % 8]![j]! + 0.05 * x
      if (shape === 'skewed') x = j === 0 ? 50 + x : x * 0.01
      out[r * dim + j] = x
    }
    // Some exact duplicates (ties), and a zero vector.
    if (shape === 'duplicates' && r % 5 === 4) out.copyWithin(r * dim, (r - 4) * dim, (r - 3) * dim)
    if (r === 7) out.fill(0, r * dim, (r + 1) * dim)
  }
  return out
}

test('quantised top-k equals scoring every row exactly', { timeout: 300_000 }, () => {
  let cases = 0
  const filtered: Record<Shape, number> = { random: 0, clustered: 0, duplicates: 0, skewed: 0 }
  for (const shape of ['random', 'clustered', 'duplicates', 'skewed'] as Shape[]) {
    for (const dim of [3, 16, 37, 384]) {
      const n = dim === 384 ? 5000 : 9000
      const vectors = data(shape, n, dim, dim * 31 + shape.length)
      const m = new ListMatrix(1, dim)
      // Appended in uneven pieces, as appends arrive (the memory grows between them).
      for (let at = 0, step = 1; at < n; at += step, step = Math.min(step * 3, 4000)) m.push(vectors.subarray(at * dim, Math.min(n, at + step) * dim), Math.min(step, n - at))
      assert.equal(m.count, n)
      const rand = mulberry32(dim + n)
      for (let qi = 0; qi < 3; qi++) {
        // Queries: a stored row (its own best match, and its duplicates tie with it), and noise.
        const raw = qi === 0 ? vectors.slice(4 * dim, 5 * dim) : Float32Array.from({ length: dim }, () => gaussian(rand))
        const query = unitVector(raw)
        for (const k of [1, 10, 100]) {
          const got = m.top(query, k)
          const want = reference(m, query, k)
          if (m.lastQuery.filtered) filtered[shape]++
          assert.deepEqual(got, want, `${shape}, dim ${dim}, query ${qi}, k ${k}`)
          cases++
        }
      }
    }
  }
  assert.equal(cases, 4 * 4 * 3 * 3)
  console.log(`queries answered through the quantised filter, by data shape (of 36 each): ${JSON.stringify(filtered)}`)
  // The filter must really have been exercised, not just the fallback.
  assert.ok(filtered.random >= 30 && filtered.duplicates >= 30, JSON.stringify(filtered))
})

test('a list written at far indexes (explicit-index appends) holds one row per written item: memory follows the vectors, not the largest index', () => {
  const dim = 384
  const one = (j: number) => {
    const x = new Float32Array(dim)
    x[j] = 1
    return x
  }
  const cat = (...vs: Float32Array[]) => {
    const out = new Float32Array(vs.length * dim)
    vs.forEach((x, i) => out.set(x, i * dim))
    return out
  }
  // Append order: two at the start, one at 2^31, one at 2^40, then index 1 replaced.
  const m = writtenMatrix(1, dim, [
    [0, 2, cat(one(0), one(1))],
    [2 ** 31, 1, one(2)],
    [2 ** 40, 1, one(3)],
    [1, 1, one(4)],
  ])
  assert.equal(m.count, 4, 'one row per written item')
  assert.equal(m.capacity < 1000, true, `rows reserved: ${m.capacity}`)
  // Both copies (float32 and int8) of the few rows reserved, with the kernels' pages: well under a
  // MB (a row per index up to 2^40 would be 1.6 PB; up to 3,000,000, 4.6 GB).
  assert.equal(m.bytes < 1 << 20, true, `bytes held: ${m.bytes}`)
  assert.deepEqual([0, 1, 2, 3].map((r) => m.indexOf(r)), [0, 1, 2 ** 31, 2 ** 40], 'rows in index order')
  assert.deepEqual(m.top(unitVector(one(3)), 1), [[1, 2 ** 40]])
  assert.deepEqual(m.top(unitVector(one(2)), 1), [[1, 2 ** 31]])
  assert.deepEqual(m.top(unitVector(one(4)), 1), [[1, 1]], 'the later write replaced index 1')
  assert.deepEqual(m.top(unitVector(one(1)), 10).map(([score]) => score), [0, 0, 0, 0], 'the replaced vector is gone')
})
