// Builds everything that ships, and the browser test fixtures:
//   src/persistence/creation-template.ts  a new vault's database, made ahead (scripts/creation-template.ts)
//   dist/browser/labvault.js       the browser client (ESM, self-contained: importable from a CDN)
//   dist/browser/vault.worker.js   the engine in a module worker (with its vault-worker-*.js chunks)
//   dist/browser/sql-wasm.wasm     sql.js's wasm, located through assetBase or next to the worker
//   dist/browser/zstd.wasm         zstd for Parquet exports (loaded on first export), beside labvault.js
//   dist/browser/duckdb-*.{js,wasm} DuckDB for SQL over the vault: a chunk of the worker and its wasm, loaded on first use
//   dist/node/**                   the Node build (tsc emit: the engine runs in-process)
//   dist/types/**                  declarations (tsc, `@internal` members stripped), and
//   dist/types/worker.d.ts         the declaration of `labvault/worker` (the worker script)
//   dist-test/*.js                 test/browser/fixtures/*.ts bundled for the browser tests
//   demo/dist/                     the demo site (vite), with DuckDB's wasm in labvault/ and a sample vault in vaults/
//   demo/dist/api/                 the API reference (TypeDoc from the doc comments: scripts/apidocs.mjs)
import { build } from 'vite'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, rmSync, existsSync, symlinkSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const DUCKDB_WASM = ['duckdb-eh.wasm', 'duckdb-mvp.wasm']
const only = process.argv.slice(2)
const want = (name) => only.length === 0 || only.includes(name)

const WORKER_DECLARATION = `/**
 * labvault/worker: the script of the engine's module worker. It exports nothing: start it as a
 * module Worker (with Vite: \`import VaultWorker from 'labvault/worker?worker'\`) and pass it as
 * \`openVault(name, { worker: new VaultWorker() })\`, or leave \`worker\` unset: openVault then
 * starts the script that lies next to the package's module.
 */
export {}
`

// The browser client: every domain client but the key-value store's, and Arrow, in chunks of their
// own, which labvault.js re-exports (the classes are public) and the vault imports on first use: an
// app's bundler drops the re-exports it does not use (package.json: sideEffects false), so a page
// that only uses the key-value store never loads them (docs/cold-start.md).
const CLIENT_CHUNKS = [
  { name: 'arrow', test: /node_modules[\\/](apache-arrow|flatbuffers|tslib)[\\/]/ },
  // The IndexedDB adapter (with idb): exported, and used by the page-thread engine (its own chunk).
  { name: 'indexeddb', test: /indexeddb-adapter\.ts$|node_modules[\\/]idb[\\/]/ },
  // hitsToArrow is exported as itself (a synchronous function): its own chunk, with Arrow beside it.
  { name: 'hits-arrow', test: /hits-arrow\.ts$/, priority: 1 },
  // Code only `worker: false`, listVaults/deleteVault, import and `storage: 'http'` need (the engine's
  // file code: manifests, the log's framing, vault folders; the page's memory storage; the HTTP
  // adapter): chunks of their own. An app's bundler keeps what its lazy chunks use of a module in
  // the chunk that holds the module: were these in labvault.js, every page would load them.
  { name: 'vault-files', test: /src[\\/]persistence[\\/](vault-folder|manifest|log-format|crc32)\.ts$|src[\\/]client[\\/](vault-names|page-memory)\.ts$|src[\\/]storage[\\/]memory-adapter\.ts$/ },
  { name: 'http-adapter', test: /src[\\/]storage[\\/]http-adapter\.ts$/ },
  // Public values no page needs at load but lazy chunks import (the store's column names, byte
  // concatenation): kept in labvault.js, an app's bundler left them on every page.
  { name: 'shared-values', test: /src[\\/]domains[\\/]store[\\/]shared[\\/]store-types\.ts$|src[\\/]codec[\\/]bytes\.ts$/ },
  // fromPlatformError: the storage adapters and the engine use it, the page does not. In errors.js
  // (which the page loads whole) it was on every page; in labvault.js, the lazy chunks that import it
  // made an app's bundler split the entry.
  { name: 'platform-error', test: /src[\\/]errors[\\/]platform-error\.ts$/ },
  // The Parquet facade (writeParquet, readParquet…): the SQL and store clients import it; in labvault.js
  // it stayed on every page (the zstd wasm's default location, which openVault sets, is apart).
  { name: 'parquet', test: /src[\\/]codec[\\/]parquet\.ts$/ },
  // src/client/items-clients.ts and sql-clients.ts (one module a page imports for each of those
  // chunks) go with their clients; DatabaseClient with the SQL client, whose chunk each query needs.
  { name: (id) => `${/domains[\\/](\w+)[\\/]|client[\\/](items|sql)-clients\.ts$/.exec(id).slice(1).find(Boolean)}-client`, test: /src[\\/]domains[\\/](columns|items|tables|store|sql)[\\/]client[\\/]|src[\\/]client[\\/](items|sql)-clients\.ts$/ },
]

// The worker's first chunks (docs/cold-start.md): its boot (what the first script needs to answer
// the page), then the engine's chunk with everything the engine imports statically, in one file:
// the engine's code then arrives in one download after the boot ran, with no second round trip
// for small modules it shares with the lazy chunks (those import them from the engine's chunk).
// An app's bundler that rebundles the worker (Vite's `?worker`) keeps that shape.
const WORKER_CHUNKS = [
  { name: 'vault-worker-boot', test: /src[\\/]worker[\\/](worker-boot|serve-calls)\.ts$|src[\\/]protocol[\\/]start-marks\.ts$/, priority: 2 },
  { name: 'vault-worker-engine', test: /src[\\/]worker[\\/]worker-service\.ts$/, priority: 1 },
]

// The page's chunks are named without a content hash (`value-codec.js`, not `value-codec-CLSC9sAT.js`):
// an app's bundler names each after the package's file and adds its own hash, and writes every name
// into the page's entry (each \`import()\`, and Vite's list of chunks to preload): a hash of the
// package's is ~9 more random characters per name there, ~0.35 KB gzip on a key-value-only page
// (docs/cold-start.md, "Main-thread bytes"). `labvault.js` has no hash either: a copy served as is
// (a CDN) is versioned by its URL. The worker's chunks keep theirs (package.json's `sideEffects`).
async function bundle(entry, outDir, fileName, extra = {}) {
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      minify: false,
      sourcemap: true,
      target: 'es2022',
      lib: { entry: resolve(root, entry), formats: ['es'], fileName: () => fileName },
      // The worker's first script holds the engine and the small domains; the heavy domains' engine
      // halves (Arrow, yaml…) and DuckDB are chunks loaded on first use (docs/cold-start.md). The
      // chunks have side effects between them: package.json's `sideEffects` names them.
      rollupOptions: { output: entry.includes('worker') ? { chunkFileNames: (chunk) => (chunk.facadeModuleId?.includes('duckdb-browser-blocking') ? 'duckdb-[hash].js' : 'vault-worker-[hash].js'), codeSplitting: { groups: WORKER_CHUNKS } } : entry === 'src/index.ts' ? { chunkFileNames: '[name].js', codeSplitting: { includeDependenciesRecursively: false, groups: CLIENT_CHUNKS } } : {}, ...(entry === 'src/index.ts' ? { preserveEntrySignatures: 'allow-extension' } : {}) },
      ...extra,
    },
    define: { 'process.env.NODE_ENV': '"production"' },
    resolve: {
      conditions: ['browser', 'module', 'import', 'default'],
      // duckdb-wasm's `./blocking` export names no browser file Vite resolves: point at its browser build.
      alias: [...zstdAlias, { find: /^@duckdb\/duckdb-wasm\/blocking$/, replacement: resolve(root, 'node_modules/@duckdb/duckdb-wasm/dist/duckdb-browser-blocking.mjs') }],
    },
  })
}

// zstd's wasm ships as a file located at run time (assetBase, or next to the module), not inlined:
// see scripts/zstd-web-shim.js.
const zstdAlias = [{ find: /^@bokuweb\/zstd-wasm$/, replacement: resolve(root, 'scripts/zstd-web-shim.js') }]
const ZSTD_WASM = resolve(root, 'node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm')

// A new vault's database, made ahead from the standard domains' creation statements
// (src/persistence/creation-image.ts): written into src/ before anything that bundles or emits it.
if (want('browser') || want('node')) {
  execFileSync(process.execPath, ['--import', 'tsx', resolve(root, 'scripts/creation-template.ts')], { stdio: 'inherit', cwd: root })
}

if (want('browser')) {
  rmSync(resolve(root, 'dist/browser'), { recursive: true, force: true })
  await bundle('src/index.ts', 'dist/browser', 'labvault.js')
  await bundle('workers/vault.worker.ts', 'dist/browser', 'vault.worker.js')
  copyFileSync(resolve(root, 'node_modules/sql.js/dist/sql-wasm-browser.wasm'), resolve(root, 'dist/browser/sql-wasm.wasm'))
  copyFileSync(ZSTD_WASM, resolve(root, 'dist/browser/zstd.wasm'))
  // DuckDB's wasm builds (exception-handling and MVP), found through assetBase like sql-wasm.wasm.
  for (const f of DUCKDB_WASM) copyFileSync(resolve(root, 'node_modules/@duckdb/duckdb-wasm/dist', f), resolve(root, 'dist/browser', f))
}

if (want('node')) {
  rmSync(resolve(root, 'dist/node'), { recursive: true, force: true })
  rmSync(resolve(root, 'dist/types'), { recursive: true, force: true })
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: root })
  // `labvault/worker` is workers/vault.worker.ts bundled: a script that exposes the engine and exports
  // nothing. Its declaration says so (tsc emits only src/, whose worker-service is not that module).
  writeFileSync(resolve(root, 'dist/types/worker.d.ts'), WORKER_DECLARATION)
}


// 'labvault' and its subpaths resolve to the built package (dist/), as in an app that installed it.
const builtPackageAliases = [
  { find: /^labvault\/worker(?=\?|$)/, replacement: resolve(root, 'dist/browser/vault.worker.js') },
  { find: /^labvault\/sql-wasm\.wasm(?=\?|$)/, replacement: resolve(root, 'dist/browser/sql-wasm.wasm') },
  { find: /^labvault$/, replacement: resolve(root, 'dist/browser/labvault.js') },
]

if (want('fixtures')) {
  const dir = resolve(root, 'test/browser/fixtures')
  rmSync(resolve(root, 'dist-test'), { recursive: true, force: true })
  mkdirSync(resolve(root, 'dist-test'), { recursive: true })
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      await bundle(`test/browser/fixtures/${f}`, 'dist-test', f.replace(/\.ts$/, '.js'))
    }
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.html'))) copyFileSync(resolve(dir, f), resolve(root, 'dist-test', f))
  }
  copyFileSync(resolve(root, 'node_modules/sql.js/dist/sql-wasm-browser.wasm'), resolve(root, 'dist-test/sql-wasm.wasm'))
  copyFileSync(ZSTD_WASM, resolve(root, 'dist-test/zstd.wasm'))
  for (const f of DUCKDB_WASM) copyFileSync(resolve(root, 'node_modules/@duckdb/duckdb-wasm/dist', f), resolve(root, 'dist-test', f))
  // A page built the way a user's Vite app is: production mode, minified (class names mangled),
  // the package resolved to dist/ (test/browser/minified.spec.ts).
  await build({
    root: resolve(root, 'test/browser/minified-app'),
    configFile: false,
    logLevel: 'warn',
    base: './',
    build: { outDir: resolve(root, 'dist-test/minified'), emptyOutDir: true, target: 'es2022', minify: true },
    worker: { format: 'es' },
    resolve: { alias: builtPackageAliases },
  })

  // A page that uses only the key-value store, built the same way, with its module graph written
  // beside it (graph.json): test/browser/cold-start.spec.ts checks what its main thread loads, and
  // the cold-start bench times it (bench/pages/cold-start-bench.mjs).
  // It resolves 'labvault' as an installed package (node_modules/labvault, a link to this checkout):
  // so the bundler reads the package's `exports` and `sideEffects: false` as it does in a user's app.
  const app = resolve(root, 'dist-test/kv-only-app')
  mkdirSync(resolve(app, 'node_modules'), { recursive: true })
  for (const f of readdirSync(resolve(root, 'test/browser/kv-only-app'))) copyFileSync(resolve(root, 'test/browser/kv-only-app', f), resolve(app, f))
  symlinkSync(root, resolve(app, 'node_modules/labvault'), 'dir')
  await build({
    root: app,
    configFile: false,
    logLevel: 'warn',
    base: './',
    build: { outDir: resolve(root, 'dist-test/kv-only'), emptyOutDir: true, target: 'es2022', minify: true, rollupOptions: { plugins: [moduleGraph('graph.json')] } },
    worker: { format: 'es' },
  })
}

/**
 * A build plugin that writes the output's module graph as JSON: for each chunk, its file, whether it
 * is the entry, the chunks it imports statically and dynamically, and the modules it contains.
 */
function moduleGraph(fileName) {
  return {
    name: 'labvault-module-graph',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle)
        .filter((c) => c.type === 'chunk')
        .map((c) => ({ fileName: c.fileName, isEntry: c.isEntry, imports: c.imports, dynamicImports: c.dynamicImports, modules: Object.keys(c.modules).filter((id) => c.modules[id].renderedLength > 0) }))
      this.emitFile({ type: 'asset', fileName, source: JSON.stringify({ chunks }, null, 1) })
    },
  }
}

if (want('demo') && existsSync(resolve(root, 'demo/index.html'))) {
  // The demo resolves 'labvault' to the built package (dist/), as an app that installed it would.
  await build({
    root: resolve(root, 'demo'),
    configFile: false,
    logLevel: 'warn',
    base: './',
    build: { outDir: resolve(root, 'demo/dist'), emptyOutDir: true, target: 'es2022' },
    worker: { format: 'es' },
    resolve: { alias: builtPackageAliases },
  })
  // What a user of `vault.sql` copies beside their app (docs/sql.md, "Bundlers"): DuckDB's wasm
  // builds, found through the page's `assetBase` (demo/main.ts), and zstd's for Parquet exports.
  const assets = resolve(root, 'demo/dist/labvault')
  mkdirSync(assets, { recursive: true })
  for (const f of DUCKDB_WASM) copyFileSync(resolve(root, 'node_modules/@duckdb/duckdb-wasm/dist', f), resolve(assets, f))
  copyFileSync(ZSTD_WASM, resolve(assets, 'zstd.wasm'))
  // The read-only sample vault the page opens over HTTP: made with the fs storage, served as files.
  execFileSync(process.execPath, ['--import', 'tsx', resolve(root, 'demo/scripts/make-sample-vault.ts'), resolve(root, 'demo/dist/vaults')], { stdio: 'inherit', cwd: root })
}
// The API reference (TypeDoc, from the doc comments) beside the demo: demo/dist/api. After the demo,
// whose build empties demo/dist. Needs dist/types (the node target) from this or an earlier build.
if (want('api') && existsSync(resolve(root, 'demo/dist')) && existsSync(resolve(root, 'dist/types/index.d.ts'))) {
  // Not fatal: without the registry, a fresh clone cannot install TypeDoc; the site works without it
  // (the docs test, test/node/docs-exports.test.ts, still insists on the tools).
  try {
    execFileSync(process.execPath, [resolve(root, 'scripts/apidocs.mjs'), '--out', resolve(root, 'demo/dist/api')], { stdio: 'inherit', cwd: root })
  } catch (err) {
    console.warn(`labvault: the API reference was not built (${err.message.split('\n')[0]}); \`npm run docs\` retries`)
  }
}
console.log('labvault: build done')
