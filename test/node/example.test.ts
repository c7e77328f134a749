import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'

const root = resolve(import.meta.dirname, '../..')

test('examples/node-quickstart.mjs runs with plain node against the built package (npm run build first)', () => {
  const vaultDir = resolve(root, 'vaults/quickstart')
  rmSync(vaultDir, { recursive: true, force: true })
  try {
    const out = execFileSync(process.execPath, ['examples/node-quickstart.mjs'], { cwd: root, encoding: 'utf8' })
    assert.match(out, /metrics : 1000/)
    assert.match(out, /runs {4}: 1/)
    assert.match(out, /typed error: true NOT_FOUND/)
    assert.ok(existsSync(resolve(vaultDir, 'manifest-0')))
  } finally {
    rmSync(vaultDir, { recursive: true, force: true })
  }
})
