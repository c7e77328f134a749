// A text that begins with U+FEFF (the byte order mark) is data like any other. TextDecoder drops a
// leading U+FEFF unless told not to, and labvault decoded with it in three places: the log's replay
// (a key "\uFEFFkey" came back as "key", overwriting it; two names differing by it made the vault
// fail to reopen with a UNIQUE constraint), sql.js's reads of SQLite text (keys listed without it,
// a list so named could not be found), and `str:` columns. Found by probing; the replay invariant
// (replay-invariant.test.ts) now draws such strings too.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault, type DocumentList } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-bom-')
const BOM = '\uFEFF'

test('keys, namespaces, column and list names and str values that begin with U+FEFF keep it, live and after reopen', async () => {
  const open = () => openVault('bom', { storage: 'fs', path: dir })
  const v = await open()
  await v.kv().set('key', 'plain')
  await v.kv().set(`${BOM}key`, 'marked')
  await v.kv('ns').set('k', 1)
  await v.kv(`${BOM}ns`).set('k', 2)
  await v.columns.create('c', 'f64')
  const marked = await v.columns.create(`${BOM}c`, 'str:utf8')
  await marked.extend([`${BOM}ab`, 'cd'])
  for (const enc of ['str:16:utf16le', 'str:16:utf16be'] as const) {
    const col = await v.columns.create(`u16-${enc}`, enc)
    await col.append(`${BOM}ab`)
  }
  await v.lists.create('L', { type: 'document' })
  const docs = (await v.lists.create(`${BOM}L`, { type: 'document' })) as DocumentList
  await docs.append(`${BOM}hello`)

  const check = async (label: string, vault: typeof v) => {
    assert.equal(await vault.kv().get('key'), 'plain', label)
    assert.equal(await vault.kv().get(`${BOM}key`), 'marked', label)
    assert.deepEqual((await vault.kv().keys()).sort(), [`${BOM}key`, 'key'].sort(), label)
    assert.equal(await vault.kv(`${BOM}ns`).get('k'), 2, label)
    assert.equal(await vault.kv('ns').get('k'), 1, label)
    assert.deepEqual((await vault.columns.list()).map((c) => c.name).sort(), ['c', `${BOM}c`, 'u16-str:16:utf16be', 'u16-str:16:utf16le'].sort(), label)
    assert.deepEqual(await (await vault.columns.get(`${BOM}c`)).slice(), [`${BOM}ab`, 'cd'], label)
    for (const enc of ['str:16:utf16le', 'str:16:utf16be']) assert.deepEqual(await (await vault.columns.get(`u16-${enc}`)).slice(), [`${BOM}ab`], `${label} ${enc}`)
    assert.deepEqual((await vault.lists.list()).map((l) => l.name).sort(), ['L', `${BOM}L`].sort(), label)
    assert.equal(await (await vault.lists.get<DocumentList>(`${BOM}L`)).get(0), `${BOM}hello`, label)
  }
  await check('live', v)
  await v.close()
  const again = await open()
  await check('after reopen (the log replayed)', again)
  await again.checkpoint()
  await again.close()
  const third = await open()
  await check('after a checkpoint', third)
  // popItem takes it out (before, the key it returned was not the one stored, and it stayed).
  const kv = third.kv()
  const popped: unknown[] = []
  while ((await kv.size()) > 0 && popped.length < 5) popped.push((await kv.popItem())[0])
  assert.deepEqual(popped.sort(), [`${BOM}key`, 'key'].sort())
  await third.close()
})
