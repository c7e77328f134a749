// Deterministic data sets and plain-JS baselines shared by the Node and browser benchmarks
// (plain JS: runs in both). Everything is generated from seeded generators, so every run, and both
// environments, measure the same data.
import { median, rng } from './stats.mjs'

/** A standard normal sampler (Box–Muller) over a seeded uniform generator. */
export function gaussian(seed) {
  const r = rng(seed)
  let spare = null
  return () => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    let u = 0
    while (u === 0) u = r()
    const v = r()
    const mag = Math.sqrt(-2 * Math.log(u))
    spare = mag * Math.sin(2 * Math.PI * v)
    return mag * Math.cos(2 * Math.PI * v)
  }
}

/** Normalise each `dim`-long row of `m` in place to unit length. */
export function normaliseRows(m, dim) {
  for (let b = 0; b < m.length; b += dim) {
    let s = 0
    for (let j = 0; j < dim; j++) s += m[b + j] * m[b + j]
    const inv = 1 / Math.sqrt(s)
    for (let j = 0; j < dim; j++) m[b + j] *= inv
  }
  return m
}

/**
 * `n` unit-length vectors of `dim` numbers in one Float32Array, clustered like real embeddings:
 * `clusters` random centres, each vector a centre plus Gaussian noise of the same scale (cosine
 * to its centre ≈ 0.7), then normalised. `queries` more vectors drawn the same way (not in the set).
 */
export function clusteredEmbeddings(n, dim, { clusters = 1000, queries = 0, seed = 42 } = {}) {
  const g = gaussian(seed)
  const pick = rng(seed + 1)
  const centres = new Float32Array(clusters * dim)
  for (let i = 0; i < centres.length; i++) centres[i] = g()
  const make = (count) => {
    const m = new Float32Array(count * dim)
    for (let i = 0; i < count; i++) {
      const c = Math.floor(pick() * clusters) * dim
      for (let j = 0; j < dim; j++) m[i * dim + j] = centres[c + j] + g()
    }
    return normaliseRows(m, dim)
  }
  return { matrix: make(n), queries: make(queries) }
}

/**
 * The plain-JS exact top-k by dot product (cosine for unit vectors): one pass of Float32Array dot
 * products with a k-slot insertion list. Returns indices best first.
 */
export function plainTopK(matrix, dim, query, k = 10) {
  const n = matrix.length / dim
  const bestI = new Int32Array(k).fill(-1)
  const bestS = new Float64Array(k).fill(-Infinity)
  for (let i = 0; i < n; i++) {
    let s = 0
    const b = i * dim
    for (let j = 0; j < dim; j++) s += matrix[b + j] * query[j]
    if (s > bestS[k - 1]) {
      let p = k - 1
      while (p > 0 && bestS[p - 1] < s) {
        bestS[p] = bestS[p - 1]
        bestI[p] = bestI[p - 1]
        p--
      }
      bestS[p] = s
      bestI[p] = i
    }
  }
  return Array.from(bestI)
}

/** |approx ∩ exact| / |exact|, both lists of indices. */
export function recall(approx, exact) {
  const want = new Set(exact)
  let hit = 0
  for (const a of approx) if (want.has(a)) hit++
  return exact.length ? hit / exact.length : 1
}

/** `n` distinct pronounceable pseudo-words (two or three consonant–vowel syllables, ≥ 4 letters). */
export function vocabulary(n, seed = 3) {
  const r = rng(seed)
  const cons = 'bcdfghjklmnprstvz'
  const vows = 'aeiou'
  const seen = new Set()
  const words = []
  while (words.length < n) {
    const syllables = 2 + (r() < 0.5 ? 1 : 0)
    let w = ''
    for (let s = 0; s < syllables; s++) w += cons[Math.floor(r() * cons.length)] + vows[Math.floor(r() * vows.length)]
    if (r() < 0.3) w += cons[Math.floor(r() * cons.length)]
    if (!seen.has(w)) {
      seen.add(w)
      words.push(w)
    }
  }
  return words
}

/** A sampler of ranks 0 … n−1 with Zipf(s) frequencies (rank 0 the most frequent). */
export function zipf(n, s, seed) {
  const r = rng(seed)
  const cdf = new Float64Array(n)
  let total = 0
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / Math.pow(i + 1, s)
  for (let i = 0; i < n; i++) cdf[i] /= total
  return () => {
    const u = r()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/**
 * A corpus of `n` short documents (8–20 words from a 20k-word vocabulary with Zipf(1) frequencies)
 * and `queries` two-word queries drawn from the same distribution (distinct words).
 */
export function textCorpus(n, { queries = 30, vocabSize = 20_000, seed = 11 } = {}) {
  const words = vocabulary(vocabSize)
  const next = zipf(vocabSize, 1, seed)
  const len = rng(seed + 1)
  const docs = new Array(n)
  for (let i = 0; i < n; i++) {
    const k = 8 + Math.floor(len() * 13)
    const d = new Array(k)
    for (let j = 0; j < k; j++) d[j] = words[next()]
    docs[i] = d.join(' ')
  }
  const qnext = zipf(vocabSize, 1, seed + 2)
  const qs = []
  while (qs.length < queries) {
    const a = qnext()
    const b = qnext()
    if (a !== b) qs.push(`${words[a]} ${words[b]}`)
  }
  return { docs, queries: qs }
}

/** `{ median, runs }` (the shape of timeRuns) for times measured by hand, in ms. */
export function summary(times) {
  return { median: median(times), runs: times.map((t) => Math.round(t * 100) / 100) }
}
