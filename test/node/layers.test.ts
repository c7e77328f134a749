/**
 * The layer check (scripts/check-layers.mjs, run by `npm test`): the real tree passes, and a tree
 * with a module importing from a higher layer, or a domain client half importing engine code, fails
 * naming the import.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { tempDir } from './helpers.js'

const script = fileURLToPath(new URL('../../scripts/check-layers.mjs', import.meta.url))

function check(root?: string) {
  const r = spawnSync(process.execPath, [script, ...(root ? ['--root', root] : [])], { encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

function tree(files: Record<string, string>): string {
  const root = tempDir('labvault-layers-')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

test('the project tree keeps its layers', () => {
  const r = check()
  assert.equal(r.status, 0, r.out)
})

test('an import from a higher layer fails the check, naming it', () => {
  const root = tree({
    'src/client/vault.ts': 'export const v = 1\n',
    'src/engine/vault-engine.ts': "import { v } from '../client/vault.js'\nexport const e = v\n",
  })
  const r = check(root)
  assert.equal(r.status, 1)
  assert.match(r.out, /src\/engine\/vault-engine\.ts -> src\/client\/vault\.ts: engine imports from a higher layer \(client\)/)
})

test('a domain client half importing engine code fails the check (it would load on the main thread)', () => {
  const root = tree({
    'src/domains/kv/engine/kv-engine.ts': 'export const k = 1\n',
    'src/domains/kv/client/key-value.ts': "import type { k } from '../engine/kv-engine.js'\nexport type K = typeof k\n",
  })
  const r = check(root)
  assert.equal(r.status, 1)
  assert.match(r.out, /key-value\.ts -> src\/domains\/kv\/engine\/kv-engine\.ts: a domain client half imports domain engines code/)
})

test('a module in no layer fails the check', () => {
  const root = tree({ 'src/misc/thing.ts': 'export const x = 1\n' })
  const r = check(root)
  assert.equal(r.status, 1)
  assert.match(r.out, /src\/misc\/thing\.ts: in no layer/)
})
