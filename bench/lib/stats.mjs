// Small helpers shared by the Node and browser benchmarks (plain JS: runs in both).

/** Median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Run `fn` `runs` times (after `warmup` unmeasured runs) and return the median milliseconds. */
export async function timeRuns(fn, { runs = 5, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn(-1 - i)
  const times = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await fn(i)
    times.push(performance.now() - t)
  }
  return { median: median(times), runs: times.map((t) => Math.round(t * 100) / 100) }
}

/** Per-operation latencies of `n` sequential awaited calls: median and 90th percentile in ms. */
export async function latencies(n, fn) {
  const times = new Array(n)
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn(i)
    times[i] = performance.now() - t
  }
  const sorted = [...times].sort((a, b) => a - b)
  return { median: median(times), p90: sorted[Math.floor(n * 0.9)] }
}

/** Small objects like a metrics log. */
export function smallEntries(n, prefix = 'k') {
  return Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { step: i, loss: 1 / (i + 1), tag: 'run-a' }])
}

/** A deterministic pseudo-random generator in [0, 1) (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
