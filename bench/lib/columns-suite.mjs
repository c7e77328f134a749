// Typed-column benchmark (issue 3), shared by Node (bench/node/columns-bench.mjs) and Chromium
// (bench/browser/columns-bench.js). It drives the built package through its public API only; the
// caller passes `open(name)` / `remove(name)` for its environment (fs in Node, OPFS in Chromium).
import { median, rng, timeRuns } from './stats.mjs'
import { summary } from './workloads.mjs'

const N = 10_000_000
const SLICES = 20_000
const APPENDS = 1_000_000
const OBJECTS = 100_000
const EDITS = 500

export async function runColumnsSuite({ environment, open, remove, log = () => {} }) {
  const node = environment === 'node'
  const results = {}
  const vaultName = 'bench-columns'
  await remove(vaultName)
  const v = await open(vaultName)
  try {
    // --- 1. extend 10M f64 and read it back whole, vs copying the same Float64Array twice.
    log('columns: 10M f64 extend + read')
    const data = new Float64Array(N)
    for (let i = 0; i < N; i++) data[i] = i * 0.25
    results['plain JS: copy a 10M Float64Array twice'] = await timeRuns(() => {
      const a = new Float64Array(data)
      const b = new Float64Array(a)
      if (b[N - 1] !== data[N - 1]) throw new Error('copy mismatch')
    }, { runs: 5, warmup: 1 })
    const extendTimes = []
    const readTimes = []
    results['labvault extend 10M f64 + slice() all'] = await timeRuns(async (run) => {
      const col = await v.columns.create(`f64-${run + 10}`, 'f64')
      let t = performance.now()
      await col.extend(data)
      const tExtend = performance.now() - t
      t = performance.now()
      const back = await col.slice()
      const tRead = performance.now() - t
      if (back.length !== N || back[N - 1] !== data[N - 1] || back[12345] !== data[12345]) throw new Error('f64 round trip mismatch')
      if (run >= 0) {
        extendTimes.push(tExtend)
        readTimes.push(tRead)
      }
    }, { runs: node ? 5 : 3, warmup: 1 })
    results['  of which extend 10M f64'] = summary(extendTimes)
    results['  of which slice() all 10M f64'] = summary(readTimes)
    for (const c of await v.columns.list()) if (c.name.startsWith('f64-')) await v.columns.delete(c.name)

    // --- 1b. one element edit inside a large blob-backed column (issue 10: an edit costs what it
    // changed, not its 4 MiB chunk), beside one key-value set. The two alternate, one awaited call
    // at a time, so both meet the same disk (the 80 MB just written is still being flushed).
    log('columns: one element edit in a 10M f64 column vs one kv set')
    const edited = await v.columns.create('edit', 'f64')
    await edited.extend(data)
    const kvEdit = v.kv('edit-kv')
    const r0 = rng(11)
    for (let i = 0; i < 20; i++) {
      await edited.set(Math.floor(r0() * N), -i)
      await kvEdit.set(`w${i}`, i)
    }
    const at = []
    const editTimes = []
    const kvTimes = []
    for (let i = 0; i < EDITS; i++) {
      at.push(Math.floor(r0() * N))
      let t = performance.now()
      await edited.set(at[i], i + 0.5)
      editTimes.push(performance.now() - t)
      t = performance.now()
      await kvEdit.set(`k${i % 100}`, i + 0.5)
      kvTimes.push(performance.now() - t)
    }
    results['labvault one element edit (set) in a 10M f64 column'] = percentiles(editTimes)
    results['labvault kv: one set'] = percentiles(kvTimes)
    const last = new Map(at.map((idx, i) => [idx, i + 0.5]))
    for (const [idx, val] of [...last].slice(0, 50)) if ((await edited.get(idx)) !== val) throw new Error('edited value not read back')
    await v.columns.delete('edit')

    // --- 2. 100-element slices at random offsets of a 10M i64 column (awaited one after another).
    log('columns: random 100-element i64 slices')
    const big = new BigInt64Array(N)
    for (let i = 0; i < N; i++) big[i] = BigInt(i)
    const i64 = await v.columns.create('i64', 'i64')
    await i64.extend(big)
    const r1 = rng(5)
    results[`labvault i64 slice(100) at random offsets ×${SLICES / 1000}k (awaited)`] = await timeRuns(async () => {
      for (let i = 0; i < SLICES; i++) {
        const s = Math.floor(r1() * (N - 100))
        const x = await i64.slice(s, s + 100)
        if (x[99] !== BigInt(s + 99)) throw new Error('bad i64 slice')
      }
    }, { runs: 5, warmup: 1 })
    const r2 = rng(5)
    results[`plain JS: BigInt64Array.slice(100) at random offsets ×${SLICES / 1000}k`] = await timeRuns(() => {
      for (let i = 0; i < SLICES; i++) {
        const s = Math.floor(r2() * (N - 100))
        const x = big.slice(s, s + 100)
        if (x[99] !== BigInt(s + 99)) throw new Error('bad typed-array slice')
      }
    }, { runs: 5, warmup: 1 })
    await v.columns.delete('i64')

    // --- 3. append one value at a time inside withCache.
    log('columns: 1M appends inside withCache')
    results[`labvault append ×${APPENDS / 1e6}M inside withCache (f64)`] = await timeRuns(async (run) => {
      const col = await v.columns.create(`app-${run + 10}`, 'f64')
      await col.withCache({}, async () => {
        for (let i = 0; i < APPENDS; i++) await col.append(i)
      })
      if ((await col.length()) !== APPENDS) throw new Error('append count')
    }, { runs: 3, warmup: 1 })
    for (const c of await v.columns.list()) if (c.name.startsWith('app-')) await v.columns.delete(c.name)

    // --- 4. msgpack column of 100k small objects vs the same objects as 100k kv entries.
    log('columns: 100k msgpack objects vs kv entries')
    const objects = Array.from({ length: OBJECTS }, (_, i) => ({ step: i, loss: 1 / (i + 1), tag: 'run-a', ok: i % 3 === 0 }))
    const keys = objects.map((_, i) => `k${String(i).padStart(6, '0')}`)
    const pairs = objects.map((o, i) => [keys[i], o])
    results['labvault msgpack column: extend 100k objects + slice() all'] = await timeRuns(async (run) => {
      const col = await v.columns.create(`mp-${run + 10}`, 'msgpack')
      await col.extend(objects)
      const back = await col.slice()
      if (back.length !== OBJECTS || back[OBJECTS - 1].step !== OBJECTS - 1) throw new Error('msgpack round trip')
    }, { runs: 3, warmup: 1 })
    results['labvault kv: setMany 100k + getMany 100k'] = await timeRuns(async (run) => {
      const kv = v.kv(`gm-${run + 10}`)
      await kv.setMany(pairs)
      const back = await kv.getMany(keys)
      if (back.size !== OBJECTS || back.get(keys[OBJECTS - 1]).step !== OBJECTS - 1) throw new Error('kv getMany round trip')
    }, { runs: 3, warmup: 1 })
    results['labvault kv: setMany 100k + entries()'] = await timeRuns(async (run) => {
      const kv = v.kv(`en-${run + 10}`)
      await kv.setMany(pairs)
      const back = await kv.entries()
      if (back.length !== OBJECTS || back[OBJECTS - 1][1].step !== OBJECTS - 1) throw new Error('kv entries round trip')
    }, { runs: 3, warmup: 1 })
  } finally {
    await v.close()
    await remove(vaultName)
  }

  const m = (k) => results[k].median
  const roundTrip = m('labvault extend 10M f64 + slice() all') / m('plain JS: copy a 10M Float64Array twice')
  const sliceRate = SLICES / (m(`labvault i64 slice(100) at random offsets ×${SLICES / 1000}k (awaited)`) / 1000)
  const sliceRatio = m(`labvault i64 slice(100) at random offsets ×${SLICES / 1000}k (awaited)`) / m(`plain JS: BigInt64Array.slice(100) at random offsets ×${SLICES / 1000}k`)
  const appendRate = APPENDS / (m(`labvault append ×${APPENDS / 1e6}M inside withCache (f64)`) / 1000)
  const kvBest = Math.min(m('labvault kv: setMany 100k + getMany 100k'), m('labvault kv: setMany 100k + entries()'))
  const columnWin = kvBest / m('labvault msgpack column: extend 100k objects + slice() all')
  const where = node ? 'Node, fs' : 'Chromium, OPFS'
  const editMs = m('labvault one element edit (set) in a 10M f64 column')
  const checks = [
    check(`extend + read 10M f64 / two plain copies (${where})`, roundTrip, '≤ 5', roundTrip <= 5),
    node
      ? check('random 100-element i64 slices per second (Node)', sliceRate, '≥ 200000', sliceRate >= 200_000)
      : info('random 100-element i64 slices per second (Chromium, through the worker)', sliceRate),
    info(`i64 slice time / BigInt64Array.slice time (${where})`, sliceRatio),
    node
      ? check('withCache appends per second (Node)', appendRate, '≥ 1000000', appendRate >= 1_000_000)
      : info('withCache appends per second (Chromium)', appendRate),
    node
      ? check('one element edit in a 10M f64 column, median ms (Node)', editMs, '< 1', editMs < 1)
      : info('one element edit in a 10M f64 column, median ms (Chromium, OPFS worker)', editMs),
    info(`element edit / kv set, medians (${where})`, editMs / m('labvault kv: one set')),
    check(`100k objects write + read: best kv time / msgpack column time (${where})`, columnWin, '> 1 (column wins)', columnWin > 1),
  ]
  return { environment, results, checks }
}

function check(figure, value, bar, pass) {
  return { figure, value, bar, pass }
}

/** A figure reported without a bar (`met` shows "yes"). */
function info(figure, value) {
  return { figure, value, bar: '(reported)', pass: true }
}

/** Median and 90th percentile of a list of milliseconds. */
function percentiles(times) {
  const sorted = [...times].sort((a, b) => a - b)
  return { median: median(times), p90: sorted[Math.floor(times.length * 0.9)] }
}
