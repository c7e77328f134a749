// The layer check (run by `npm test`): every module of src/ and workers/ belongs to one layer, and a
// module may import only from its own layer or the layers below it. Domain client halves may import
// only what the main thread should load (errors, codec, protocol, their domains' shared parts): they
// never pull engine code into a page. docs/architecture.md, "Layers", explains each layer.
//
// Usage: node scripts/check-layers.mjs [--list] [--root DIR]
//   --list prints every module with its layer; --root checks another tree (the test's fixtures).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative, resolve } from 'node:path'

const args = process.argv.slice(2)
const root = args.includes('--root') ? resolve(args[args.indexOf('--root') + 1]) : resolve(import.meta.dirname, '..')

/** Bottom to top. `match` is tried in order against the path relative to the project root. */
const layers = [
  { name: 'errors', match: /^src\/errors\// },
  { name: 'codec', match: /^src\/codec\// },
  { name: 'protocol', match: /^src\/protocol\/|^src\/domains\/[^/]+\/shared\// },
  { name: 'storage', match: /^src\/storage\// },
  { name: 'sqlite', match: /^src\/sqlite\// },
  { name: 'persistence', match: /^src\/persistence\// },
  { name: 'engine', match: /^src\/engine\// },
  { name: 'domain engines', match: /^src\/domains\/[^/]+\/engine\// },
  { name: 'domain registry', match: /^src\/domains\/[^/]+\.ts$/ },
  { name: 'sharing', match: /^src\/sharing\/(node|tabs)\// },
  { name: 'worker host', match: /^src\/worker\// },
  { name: 'domain clients', match: /^src\/domains\/[^/]+\/client\// },
  { name: 'client', match: /^src\/client\// },
  { name: 'entry points', match: /^src\/[^/]+\.ts$|^workers\// },
]

/** What a domain's client half may import: the main thread must not load engine code. */
const clientMayImport = new Set(['errors', 'codec', 'protocol', 'domain clients'])

/**
 * Imports allowed against the rules, each with its reason. Keep it empty; an entry needs a reason a
 * reviewer accepts. Format: `${from} -> ${to}`.
 */
const allowed = new Map([])

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

function layerOf(file) {
  const rel = relative(root, file).split('\\').join('/')
  const i = layers.findIndex((l) => l.match.test(rel))
  return i
}

const importRe = /(?:^|[^.\w])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^.\w])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm

const files = ['src', 'workers'].filter((d) => existsSync(join(root, d))).flatMap((d) => walk(join(root, d)))
const problems = []
const list = args.includes('--list')
for (const file of files) {
  const from = layerOf(file)
  const rel = relative(root, file)
  if (from < 0) {
    problems.push(`${rel}: in no layer (add it to scripts/check-layers.mjs and docs/architecture.md)`)
    continue
  }
  if (list) console.log(`${layers[from].name.padEnd(16)} ${rel}`)
  const text = readFileSync(file, 'utf8')
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (!spec.startsWith('.')) continue
    let target = normalize(join(dirname(file), spec))
    if (target.endsWith('.js')) target = target.slice(0, -3) + '.ts'
    const to = layerOf(target)
    const trel = relative(root, target)
    if (to < 0) continue // not a module of src/ (a wasm file, a JSON file…)
    const key = `${rel} -> ${trel}`
    if (allowed.has(key)) continue
    if (to > from) problems.push(`${key}: ${layers[from].name} imports from a higher layer (${layers[to].name})`)
    else if (layers[from].name === 'domain clients' && !clientMayImport.has(layers[to].name)) {
      problems.push(`${key}: a domain client half imports ${layers[to].name} code (it would load on the main thread)`)
    }
  }
}

if (problems.length) {
  console.error(`layer check: ${problems.length} import(s) break the layers (docs/architecture.md, "Layers"):`)
  for (const p of problems) console.error(`  ${p}`)
  process.exit(1)
}
console.log(`layer check: ${files.length} modules, every import goes down the layers`)
