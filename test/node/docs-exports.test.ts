// Every public export of both entries (src/index.ts, src/node.ts and what they re-export), and every
// public member of an exported class, carries a doc comment. Read from the emitted declarations
// (dist/types, where JSDoc survives) with TypeScript 6's compiler API from tools/apidocs (the
// project's TypeScript 7 has no stable compiler API); the test rebuilds the declarations first
// (`node scripts/build.mjs node`, about two seconds), so it never judges a stale dist/.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { before, test } from 'node:test'

const root = resolve(import.meta.dirname, '../..')

type Report = { entries: Record<string, string[]>; undocumented: string[] }
let undocumentedExports: (entries: string[]) => Report

before(async () => {
  const { ensureApiDocsTools } = (await import(join(root, 'scripts/apidocs.mjs'))) as { ensureApiDocsTools: () => void }
  ensureApiDocsTools()
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'node'], { cwd: root, stdio: 'pipe' })
  ;({ undocumentedExports } = (await import(join(root, 'tools/apidocs/undocumented.mjs'))) as { undocumentedExports: typeof undocumentedExports })
})

test('every public export of labvault (browser and Node entries) and every public class member has a doc comment', () => {
  const report = undocumentedExports([join(root, 'dist/types/index.d.ts'), join(root, 'dist/types/node.d.ts')])
  // The check sees the real API, not an empty module: the names every guide uses are there.
  for (const name of ['openVault', 'Vault', 'Column', 'ItemList', 'VaultError', 'configure']) assert.ok(report.entries['index.d.ts']!.includes(name), name)
  for (const name of ['openVault', 'NodeFsAdapter', 'importNirs4allWorkspace']) assert.ok(report.entries['node.d.ts']!.includes(name), name)
  assert.deepEqual(report.undocumented, [], `undocumented public API (add a /** … */ comment in src):\n  ${report.undocumented.join('\n  ')}`)
})

test('the check names an undocumented export, a re-exported one and an undocumented class member', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-docs-'))
  try {
    writeFileSync(join(dir, 'inner.d.ts'), '/** Documented. */\nexport declare const good = 1\nexport declare function bare(): void\n')
    writeFileSync(join(dir, 'entry.d.ts'), [
      "export * from './inner.js'",
      '/** A class. */',
      'export declare class Thing {',
      '  /** Documented. */',
      '  a(): void',
      '  b(): void',
      '  private c',
      '}',
      'export type Naked = string',
      '',
    ].join('\n'))
    const report = undocumentedExports([join(dir, 'entry.d.ts')])
    assert.deepEqual(report.entries['entry.d.ts'], ['Naked', 'Thing', 'bare', 'good'])
    assert.deepEqual(report.undocumented.sort(), ['entry.d.ts: Naked', 'entry.d.ts: Thing.b', 'entry.d.ts: bare'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the API reference is generated from the doc comments with the guides (scripts/apidocs.mjs), and the demo page links to it', () => {
  const out = mkdtempSync(join(tmpdir(), 'labvault-api-'))
  try {
    execFileSync(process.execPath, [join(root, 'scripts/apidocs.mjs'), '--out', out], { cwd: root, stdio: 'pipe' })
    const page = readFileSync(join(out, 'functions/index.openVault.html'), 'utf8')
    const source = readFileSync(join(root, 'src/index.ts'), 'utf8')
    // The first sentence of openVault's doc comment, as written in src, is on its page.
    const sentence = /\/\*\*\n \* (Open \(or create\) a vault\.)/.exec(source)
    assert.ok(sentence, 'openVault has its doc comment in src/index.ts')
    assert.ok(page.includes(sentence[1]!), 'the openVault page shows its doc comment')
    // The browser entry exports the domain classes as stand-ins that load on first use
    // (docs/cold-start.md): their page there is a variable's; Node's entry has the classes themselves.
    for (const name of ['classes/index.Vault.html', 'variables/index.Column.html', 'classes/node.Column.html', 'classes/node.NodeFsAdapter.html']) assert.ok(readFileSync(join(out, name), 'utf8').length > 0, name)
    // The guides (docs/*.md) are served with it, their links between each other kept.
    const notebooks = readFileSync(join(out, 'documents/notebooks.html'), 'utf8')
    assert.match(notebooks, /Observable Plot/)
    assert.match(notebooks, /href="columns\.html/)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
  assert.match(readFileSync(join(root, 'demo/index.html'), 'utf8'), /href="\.\/api\/index\.html"/)
})
