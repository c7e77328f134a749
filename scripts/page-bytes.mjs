// What the key-value-only page's main thread loads, by source file (docs/cold-start.md, "Main-thread
// bytes"). Rebuilds test/browser/kv-only-app (as `npm run build` left it in dist-test/kv-only-app)
// with source maps into a temporary folder, walks the entry's static imports, and traces every
// minified byte through the app's map and then the package's own map (dist/browser/*.js.map) to its
// file in src/ or node_modules. Prints the chunks' gzip total, then per file the minified bytes and
// the gzip KB in proportion (an estimate: gzip does not split by file). The gzip total differs from
// test/browser/cold-start.spec.ts's figure by the source-map comments. Run after `npm run build`:
//   node scripts/page-bytes.mjs
import { build } from 'vite'
import { readFileSync, existsSync } from 'node:fs'
import { resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { gzipSync } from 'node:zlib'
import { createRequire } from 'node:module'
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(root + '/package.json')
const { SourceMapConsumer } = require('source-map-js')
const app = resolve(root, 'dist-test/kv-only-app')
const out = resolve(tmpdir(), 'labvault-page-bytes')
let graph
await build({ root: app, configFile: false, logLevel: 'silent', base: './',
  build: { outDir: out, emptyOutDir: true, target: 'es2022', minify: true, sourcemap: true,
    rollupOptions: { plugins: [{ name: 'g', generateBundle(_o, b) { graph = Object.values(b).filter(c => c.type === 'chunk') } }] } },
  worker: { format: 'es' } })
const by = new Map(graph.map(c => [c.fileName, c]))
const entry = graph.find(c => c.isEntry && !c.fileName.includes('worker'))
const seen = new Set(); const st = [entry.fileName]
while (st.length) { const n = st.pop(); if (seen.has(n)) continue; seen.add(n); st.push(...by.get(n).imports) }
const pkgMaps = new Map()
function pkgMap(file) {
  if (!pkgMaps.has(file)) pkgMaps.set(file, existsSync(file + '.map') ? new SourceMapConsumer(JSON.parse(readFileSync(file + '.map', 'utf8'))) : null)
  return pkgMaps.get(file)
}
const totals = new Map(); let totalGz = 0, totalRaw = 0
for (const name of seen) {
  const code = readFileSync(resolve(out, name), 'utf8')
  const gz = gzipSync(code).length; totalGz += gz; totalRaw += code.length
  if (!existsSync(resolve(out, name + '.map'))) { totals.set(name + ' (no map)', code.length); continue }
  const m = new SourceMapConsumer(JSON.parse(readFileSync(resolve(out, name + '.map'), 'utf8')))
  const lines = code.split('\n')
  const segs = []
  m.eachMapping(s => segs.push(s))
  segs.sort((a, b) => a.generatedLine - b.generatedLine || a.generatedColumn - b.generatedColumn)
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i], n = segs[i + 1]
    const end = n && n.generatedLine === s.generatedLine ? n.generatedColumn : lines[s.generatedLine - 1].length
    const len = end - s.generatedColumn
    let src = s.source ?? '?'
    if (src && s.source) {
      const abs = resolve(out, dirname(name), s.source)
      const pm = /dist\/browser\/.*\.js$/.test(abs) ? pkgMap(abs) : null
      if (pm) { const o = pm.originalPositionFor({ line: s.originalLine, column: s.originalColumn }); src = o.source ? resolve(dirname(abs), o.source).replace(root + '/', '') : abs.replace(root + '/', '') + '(unmapped)' }
      else src = abs.replace(root + '/', '')
    }
    const k = name.split('-')[0] + ' ' + src
    totals.set(k, (totals.get(k) ?? 0) + len)
  }
}
console.log('chunks', [...seen].join(' '), 'raw', totalRaw, 'gzip', totalGz, (totalGz / 1024).toFixed(3))
for (const [k, v] of [...totals].sort((a, b) => b[1] - a[1])) if (v > 150) console.log(String(v).padStart(6), (v / totalRaw * totalGz / 1024).toFixed(2), k)
