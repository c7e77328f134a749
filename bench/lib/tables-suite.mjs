// Versioned-tables benchmark (issue 10), shared by Node (bench/node/tables-bench.mjs) and Chromium
// (bench/browser/tables-bench.js): the built package through its public API.
//  1. execute a 100k-row instance (index builder + 3 cheap row-wise builders) vs a hand-written loop
//     that builds the same Arrow table and writes it with write() (bar: ≤ 2×);
//  2. re-execute unchanged (every row reused) vs the first execute (bar: ≤ 10 %);
//  3. get() of a 1M-row, 5-column instance vs decoding the same data from one Arrow IPC buffer (bar: ≤ 3×).
import { Table, makeVector, tableFromIPC, tableToIPC } from 'apache-arrow'
import { median, timeRuns } from './stats.mjs'

const ROWS = 100_000
const BIG = 1_000_000

const MODULE = `
export function index(args) { return { k: Int32Array.from({ length: args.n }, (_, i) => i) } }
export function twice(a) { return a.k * 2 }
export function label(a) { return 'row-' + a.k }
export function odd(a) { return (a.k & 1) === 1 }
`

const check = (figure, value, bar, pass) => ({ figure, value, bar, pass })

export async function runTablesSuite({ environment, open, remove, log = () => {} }) {
  const results = {}
  const name = 'bench-tables'
  await remove(name)
  const v = await open(name)
  try {
    await v.code.create('bench', MODULE)
    await v.tables.create('built', { allowMultipleArtifacts: true })
    await v.tables.create('hand', { allowMultipleArtifacts: true })
    const fn = (e) => ({ module: 'bench', export: e })
    const specs = {
      built_index: { kind: 'index', changedColumns: ['k'], function: fn('index'), arguments: { n: ROWS }, returnType: 'rows', dtypes: { k: 'i32' } },
      twice: { kind: 'column', changedColumns: ['twice'], function: fn('twice'), arguments: { k: '<<self.k[index]>>' }, returnType: 'row-wise', dtypes: { twice: 'f64' } },
      label: { kind: 'column', changedColumns: ['label'], function: fn('label'), arguments: { k: '<<self.k[index]>>' }, returnType: 'row-wise', dtypes: { label: 'str:utf8' } },
      odd: { kind: 'column', changedColumns: ['odd'], function: fn('odd'), arguments: { k: '<<self.k[index]>>' }, returnType: 'row-wise', dtypes: { odd: 'bool' } },
    }

    // --- 1. execute vs a hand loop + write()
    log('tables: execute 100k rows with 3 row-wise builders')
    const executeTimes = []
    const reexecuteTimes = []
    for (let run = 0; run < 4; run++) {
      // A fresh table each time: the first execute has no origin to reuse from.
      const table = `built${run}`
      await v.tables.create(table, { allowMultipleArtifacts: true })
      await v.tables.createInstance(table)
      await v.tables.builders.create(table, `${table}_index`, specs.built_index)
      for (const b of ['twice', 'label', 'odd']) await v.tables.builders.create(table, b, specs[b])
      let t = performance.now()
      await v.tables.execute(table)
      const first = performance.now() - t
      await v.tables.createInstance(table, { copy: true })
      t = performance.now()
      await v.tables.execute(table)
      const again = performance.now() - t
      if (run > 0) {
        executeTimes.push(first)
        reexecuteTimes.push(again)
      }
      const { table: got } = await v.tables.get(table)
      if (got.numRows !== ROWS || got.getChild('label').get(ROWS - 1) !== `row-${ROWS - 1}` || got.getChild('twice').get(7) !== 14) throw new Error('execute produced wrong data')
      await v.tables.delete(table)
    }
    results['labvault execute 100k rows (index + 3 row-wise builders)'] = { median: median(executeTimes), runs: executeTimes }
    results['labvault re-execute unchanged (every row reused)'] = { median: median(reexecuteTimes), runs: reexecuteTimes }
    results['hand loop → Arrow table + write()'] = await timeRuns(async () => {
      const k = new Int32Array(ROWS)
      const twice = new Float64Array(ROWS)
      const label = new Array(ROWS)
      const odd = new Array(ROWS)
      for (let i = 0; i < ROWS; i++) {
        k[i] = i
        twice[i] = i * 2
        label[i] = 'row-' + i
        odd[i] = (i & 1) === 1
      }
      await v.tables.write('hand', { k, twice, label, odd }, { dtypes: { k: 'i32', twice: 'f64', label: 'str:utf8', odd: 'bool' } })
    }, { runs: 3, warmup: 1 })

    // --- 3. get() of 1M × 5 vs one IPC buffer
    log('tables: get() of a 1M-row, 5-column instance')
    const cols = {
      a: new Float64Array(BIG).map((_, i) => i * 0.5),
      b: new Float64Array(BIG).map((_, i) => i * 1.5),
      c: new Int32Array(BIG).map((_, i) => i),
      d: new BigInt64Array(BIG).map((_, i) => BigInt(i)),
      e: new Float32Array(BIG).map((_, i) => i / 3),
    }
    await v.tables.create('big', { allowMultipleArtifacts: true })
    await v.tables.write('big', cols)
    const ipc = tableToIPC(new Table(Object.fromEntries(Object.entries(cols).map(([k, x]) => [k, makeVector(x)]))), 'stream')
    results['apache-arrow: tableFromIPC of one 1M×5 IPC buffer'] = await timeRuns(() => {
      const t = tableFromIPC(ipc)
      if (t.numRows !== BIG || t.getChild('c').get(BIG - 1) !== BIG - 1) throw new Error('ipc mismatch')
    }, { runs: 9, warmup: 2 })
    results['labvault get() 1M×5'] = await timeRuns(async () => {
      const { table: t } = await v.tables.get('big')
      if (t.numRows !== BIG || t.getChild('c').get(BIG - 1) !== BIG - 1) throw new Error('get mismatch')
    }, { runs: 9, warmup: 2 })
  } finally {
    await v.close()
    await remove(name)
  }
  const exec = results['labvault execute 100k rows (index + 3 row-wise builders)'].median
  const hand = results['hand loop → Arrow table + write()'].median
  const again = results['labvault re-execute unchanged (every row reused)'].median
  const get = results['labvault get() 1M×5'].median
  const ipcMs = results['apache-arrow: tableFromIPC of one 1M×5 IPC buffer'].median
  const checks = [
    check(`execute / hand loop + write (${environment})`, exec / hand, '≤ 2', exec / hand <= 2),
    check(`re-execute unchanged / first execute (${environment})`, again / exec, '≤ 0.1', again / exec <= 0.1),
    check(`get() 1M×5 / tableFromIPC (${environment})`, get / ipcMs, '≤ 3', get / ipcMs <= 3),
  ]
  return { environment, results, checks }
}
