// Parquet writer choice (issue 11): labvault's codec (hyparquet-writer + zstd in wasm, read back with
// hyparquet) against parquet-wasm (Arrow's Rust Parquet in wasm), both zstd level 3, on a table
// shaped like a predictions export: ids, model classes, folds, scores and 50-float y_pred lists.
// Reports write/read medians, file sizes, and the browser download each one costs (a Vite library
// build of an entry that writes one file, gzip sizes of every emitted file including the wasm).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Float64, Field, Int32, List, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow'
import { build } from 'vite'
import { readParquet, writeParquet } from '../../dist/node/codec/parquet.js'
import { rng, timeRuns } from '../lib/stats.mjs'

const ROWS = 100_000
const LIST = 50

function predictionsTable() {
  const r = rng(7)
  const n = ROWS
  const lists = Array.from({ length: n }, () => Array.from({ length: LIST }, () => r()))
  return new Table({
    prediction_id: vectorFromArray(Array.from({ length: n }, (_, i) => `p-${i.toString(36).padStart(8, '0')}`), new Utf8()),
    model_class: vectorFromArray(Array.from({ length: n }, (_, i) => `sklearn.cross_decomposition.PLSRegression${i % 10}`), new Utf8()),
    fold_id: vectorFromArray(Array.from({ length: n }, (_, i) => `fold_${i % 5}`), new Utf8()),
    val_score: vectorFromArray(Float64Array.from({ length: n }, () => r()), new Float64()),
    n_samples: vectorFromArray(Int32Array.from({ length: n }, (_, i) => 100 + (i % 50)), new Int32()),
    y_pred: vectorFromArray(lists, new List(new Field('element', new Float64(), true))),
  })
}

async function bundleWeight(name, source) {
  const root = resolve(import.meta.dirname, '../..')
  // Inside the project, so that the entry resolves packages from its node_modules.
  const dir = mkdtempSync(join(root, `.bench-parquet-${name}-`))
  try {
    const entry = join(dir, 'entry.js')
    writeFileSync(entry, source)
    await build({
      root, configFile: false, logLevel: 'silent',
      build: { outDir: join(dir, 'out'), emptyOutDir: true, minify: true, target: 'es2022', assetsInlineLimit: 0, lib: { entry, formats: ['es'], fileName: () => 'entry.js' } },
      resolve: { conditions: ['browser', 'module', 'import', 'default'], alias: [{ find: /^@bokuweb\/zstd-wasm$/, replacement: resolve(root, 'scripts/zstd-web-shim.js') }] },
    })
    const weight = { raw: 0, gz: 0, add(bytes) { weight.raw += bytes.length; weight.gz += gzipSync(bytes).length } }
    for (const f of readdirSync(join(dir, 'out'))) weight.add(readFileSync(join(dir, 'out', f)))
    return weight
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export default async function runNodeParquetBench() {
  const pw = await import('parquet-wasm')
  const table = predictionsTable()
  const results = {}
  let ours
  let theirs
  results[`labvault writeParquet ${ROWS / 1000}k rows (zstd 3)`] = await timeRuns(async () => { ours = await writeParquet(table) }, { runs: 5, warmup: 1 })
  results[`parquet-wasm writeParquet ${ROWS / 1000}k rows (zstd 3, from Arrow IPC)`] = await timeRuns(() => {
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build()
    theirs = pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props)
  }, { runs: 5, warmup: 1 })
  results[`labvault readParquet (hyparquet) ${ROWS / 1000}k rows`] = await timeRuns(async () => {
    const back = await readParquet(ours)
    if (back.numRows !== ROWS) throw new Error('read back')
  }, { runs: 3, warmup: 1 })
  const ourWeight = await bundleWeight('ours', "import { writeParquet } from '/src/codec/parquet.ts'\nexport const go = (t) => writeParquet(t)\n")
  // parquet-wasm's esm build fetches its wasm beside the module: add that file to its weight.
  const theirWeight = await bundleWeight('parquet-wasm', "import init, { writeParquet } from 'parquet-wasm/esm'\nexport const go = async (t) => { await init(); return writeParquet(t) }\n")
  const ourWasm = readFileSync(resolve(import.meta.dirname, '../../node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm'))
  ourWeight.add(ourWasm)
  const m = (k) => results[k].median
  const speed = m(`labvault writeParquet ${ROWS / 1000}k rows (zstd 3)`) / m(`parquet-wasm writeParquet ${ROWS / 1000}k rows (zstd 3, from Arrow IPC)`)
  const checks = [
    info('file size, labvault (bytes)', ours.length),
    info('file size, parquet-wasm (bytes)', theirs.length),
    info('write time labvault / parquet-wasm', speed),
    info('browser download to write Parquet, labvault (gzip bytes, JS + zstd.wasm)', ourWeight.gz),
    info('browser download to write Parquet, parquet-wasm (gzip bytes, JS + wasm)', theirWeight.gz),
    check('labvault download / parquet-wasm download', ourWeight.gz / theirWeight.gz, '< 0.25', ourWeight.gz / theirWeight.gz < 0.25),
  ]
  return { environment: 'node', results, checks }
}

function check(figure, value, bar, pass) {
  return { figure, value, bar, pass }
}

function info(figure, value) {
  return { figure, value, bar: '(reported)', pass: true }
}
