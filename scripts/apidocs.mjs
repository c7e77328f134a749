// Builds the API reference from the doc comments: TypeDoc over the emitted declarations
// (dist/types/index.d.ts and node.d.ts), with the guides (docs/*.md) as its documents, into demo/dist/api, served beside the demo (`npm start`:
// http://127.0.0.1:4173/demo/dist/api/). TypeDoc 0.28 supports TypeScript ≤ 6 only and this project
// builds with TypeScript 7, so TypeDoc and its TypeScript live in tools/apidocs with their own
// package.json, installed here (`npm install` there) when missing.
// Usage: node scripts/apidocs.mjs [--out <dir>]   (run `npm run build` first: it needs dist/types)
import { execFileSync, execSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const tools = resolve(root, 'tools/apidocs')

/** Installs tools/apidocs (TypeDoc + TypeScript 6) when a fresh clone has not yet. */
export function ensureApiDocsTools() {
  const needed = ['typedoc', 'typescript']
  if (needed.some((name) => !existsSync(resolve(tools, 'node_modules', name, 'package.json')))) {
    console.log('labvault: installing the API reference tools (npm install in tools/apidocs)…')
    execSync('npm install --no-audit --no-fund', { cwd: tools, stdio: 'inherit' })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const i = args.indexOf('--out')
  const out = resolve(i >= 0 ? args[i + 1] : resolve(root, 'demo/dist/api'))
  if (!existsSync(resolve(root, 'dist/types/index.d.ts'))) {
    console.error('labvault: no dist/types yet; run `npm run build` first')
    process.exit(1)
  }
  ensureApiDocsTools()
  execFileSync(process.execPath, [resolve(tools, 'node_modules/typedoc/bin/typedoc'), '--options', resolve(tools, 'typedoc.json'), '--out', out, '--logLevel', 'Warn'], { cwd: root, stdio: 'inherit' })
  console.log(`labvault: API reference written to ${out}`)
}
