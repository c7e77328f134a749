import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, openVault, type TextHit, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// Item search (text and vector) answering hostile or careless calls (docs/items.md, "Search").
// Found by probing; each test failed before its fix.

const dir = tempDir('labvault-items-search-hostile-')

const at = (hits: TextHit[]): string[] => hits.map((h) => ('index' in h ? `${h.list}[${h.index}]` : JSON.stringify(h)))

test('text search names an item at an explicit index past 2^31 by its index (it came back as a wrapped 32-bit number)', async () => {
  const v = await openVault('big-index', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.append('plain words')
  await docs.append('farther alpha', { index: 2 ** 31 + 5, start: 100 })
  await docs.append('farthest alpha', { index: 2 ** 40, start: 200 })
  const check = async (v: Vault): Promise<void> => {
    assert.deepEqual(at(await v.search.text('farther')), [`docs[${2 ** 31 + 5}]`])
    assert.deepEqual(at(await v.search.text('farthest')), [`docs[${2 ** 40}]`])
    assert.deepEqual(at(await v.search.items({ text: 'alpha' })).sort(), [`docs[${2 ** 31 + 5}]`, `docs[${2 ** 40}]`].sort())
  }
  await check(v)
  await v.close()
  const again = await openVault('big-index', { storage: 'fs', path: dir })
  try {
    await check(again)
  } finally {
    await again.close()
  }
})
