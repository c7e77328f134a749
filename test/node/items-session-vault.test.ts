// A session belongs to the vault that started it (docs/items.md, "Sessions"): session ids are per
// vault, so vault B must refuse vault A's session 1 even though B has a session 1 of its own, and
// nothing may be written. Same vault: accepted across reopen, handles, processes, JSON, import.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { MemoryAdapter, NotFoundError, exportVault, importVault, openVault, type DocumentList, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { VaultFiles } from '../../src/persistence/vault-files.js'
import { creationStatements } from '../../src/engine/vault-engine.js'
import { standardDomains } from '../../src/domains/registry.js'
import { vaultIdOf } from '../../src/engine/vault-identity.js'

/** Two vaults, each with session 1 (same ids, different code) and a list of documents. */
async function twoVaults(): Promise<{ a: Vault; b: Vault; close: () => Promise<void> }> {
  const a = await openVault('a', { storage: new MemoryAdapter() })
  const b = await openVault('b', { storage: new MemoryAdapter() })
  await a.lists.create('notes', { type: 'document' })
  await b.lists.create('notes', { type: 'document' })
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) }
}

test("another vault's session with an id this vault has is refused (NotFoundError), nothing written; its own is accepted", async () => {
  const { a, b, close } = await twoVaults()
  try {
    const sa = await a.session('train-a.ts', { code: 'train(a)' })
    const sb = await b.session('train-b.ts', { code: 'train(b)' })
    assert.equal(sa.id, sb.id, 'the same session id in both vaults: the case in question')
    assert.equal(typeof sa.vault, 'string')
    assert.match(sa.vault!, /^[0-9a-f]{32}$/)
    assert.notEqual(sa.vault, sb.vault)
    const notes = await b.lists.get<DocumentList>('notes')
    for (const session of [sa, sa.toJSON(), JSON.parse(JSON.stringify(sa))]) {
      await assert.rejects(notes.append('x', { session }), NotFoundError)
      await assert.rejects(notes.appendMany(['x', 'y'], { session }), NotFoundError)
      await assert.rejects(b.lists.create('other', { type: 'document', session }), NotFoundError)
      await assert.rejects(b.session('child.ts', { parent: session }), NotFoundError)
      await assert.rejects(notes.describe('how', 'made by a', { session }), NotFoundError)
    }
    assert.equal((await notes.info()).length, 0, 'nothing appended')
    assert.deepEqual((await b.lists.list()).map((l) => l.name), ['notes'], 'no list created')
    assert.equal((await b.sessions.list()).length, 1, 'no child session started')
    assert.deepEqual(await sb.wrote(), [])
    assert.deepEqual(await notes.descriptions(), [], 'no description written')
    // Its own session, as an object, as JSON, and as a parent, is accepted.
    await notes.append('one', { session: sb })
    await notes.append('two', { session: JSON.parse(JSON.stringify(sb)) })
    const child = await b.session('child.ts', { parent: sb })
    assert.equal((await child.info()).parent, sb.id)
    assert.equal((await notes.info()).length, 2)
    // A reference saved before vault ids (no `vault`) is taken as this vault's, as before.
    await notes.append('three', { session: { id: sb.id, currentCell: 0 } })
    // A vault field that is no id is a malformed reference.
    await assert.rejects(notes.append('x', { session: { id: sb.id, vault: 7 as never } }), (e: Error) => e.name === 'InvalidArgumentError')
  } finally {
    await close()
  }
})

test('a session is accepted by its vault across close and reopen, a second handle, another process', async () => {
  const path = tempDir()
  const v = await openVault('lab', { path })
  const notes = await v.lists.create('notes', { type: 'document' })
  const s = await v.session('run.ts', { code: 'run()' })
  assert.match(s.vault ?? '', /^[0-9a-f]{32}$/, 'the session names its vault')
  const saved = JSON.stringify(s)
  const second = await openVault('lab', { path })
  await (await second.lists.get<DocumentList>('notes')).append('from a second handle', { session: JSON.parse(saved) })
  await second.close()
  await notes.append('first', { session: s })
  await v.close()
  const again = await openVault('lab', { path })
  assert.equal((JSON.parse(saved) as { vault: string }).vault, s.vault)
  await (await again.lists.get<DocumentList>('notes')).append('after reopen', { session: JSON.parse(saved) })
  await again.close()
  // Another process, given the reference as JSON.
  const script = join(tempDir(), 'child.mts')
  writeFileSync(
    script,
    `import { openVault } from ${JSON.stringify(join(process.cwd(), 'src/node.ts'))}
const v = await openVault('lab', { path: ${JSON.stringify(path)} })
await (await v.lists.get('notes') as any).append('from another process', { session: ${saved} })
await v.close()
`,
  )
  execFileSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' })
  const last = await openVault('lab', { path })
  const wrote = await last.sessions.wrote(s.id)
  assert.equal(wrote.reduce((n, w) => n + (w.end - w.start), 0), 4, 'all four appends recorded as the session')
  await last.checkpoint()
  await last.close()
  const afterCheckpoint = await openVault('lab', { path })
  assert.equal((await afterCheckpoint.session('next.ts')).vault, s.vault, 'the id survives a checkpoint')
  await afterCheckpoint.close()
})

test('export then import keeps the vault id: the copy accepts the source sessions (the same history) and another vault still refuses them', async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  await v.lists.create('notes', { type: 'document' })
  const s = await v.session('run.ts')
  await v.close()
  const archive = await exportVault('src', { path })
  await importVault('copy', archive, { path })
  const copy = await openVault('copy', { path, create: false })
  assert.equal((await copy.session('later.ts')).vault, s.vault)
  await (await copy.lists.get<DocumentList>('notes')).append('in the copy', { session: s.toJSON() })
  await copy.close()
  const other = await openVault('other', { path })
  await other.session('mine.ts')
  const notes = await other.lists.create('notes', { type: 'document' })
  await assert.rejects(notes.append('x', { session: s.toJSON() }), NotFoundError)
  await other.close()
})

test('the id replayed from the log equals the live one (never checkpointed, and after more commits)', async () => {
  const storage = new MemoryAdapter()
  const v = await openVault('r', { storage })
  const s = await v.session('a.ts')
  assert.match(s.vault ?? '', /^[0-9a-f]{32}$/, 'the session names its vault')
  await v.kv().set('k', 1)
  // Closed without a checkpoint: the reopen replays the creation record, then the commits.
  await v.close()
  const files = await VaultFiles.open(storage, 'r', { readOnly: true, create: false, identity: { name: 'r', author: '', description: '' }, schema: () => creationStatements(standardDomains) })
  try {
    assert.equal(files.manifest.imageSize, 0, 'no image: the id comes from the log')
    assert.equal(vaultIdOf(files.db), s.vault)
  } finally {
    await files.close()
  }
  const again = await openVault('r', { storage })
  assert.equal((await again.session('b.ts')).vault, s.vault)
  await again.close()
})

test('a vault made before vault ids gets one at its first write-capable open (a logged commit); a read-only open has none', async () => {
  const storage = new MemoryAdapter()
  // The creation record the build before vault ids wrote: the standard schema without the `vault` table and id.
  const old = creationStatements(standardDomains).map(([sql, runs]): [string, typeof runs] => [sql, runs.filter((r) => r[0] !== 'vault')]).filter(([sql]) => !sql.includes('vault_meta'))
  const files = await VaultFiles.open(storage, 'old', { readOnly: false, create: true, identity: { name: 'old', author: '', description: '' }, schema: () => old })
  await files.close()
  const ro = await openVault('old', { storage, readOnly: true })
  const roInfo = await ro.info()
  assert.equal(roInfo.readOnly, true)
  await ro.close()
  const probe = await VaultFiles.open(storage, 'old', { readOnly: true, create: false, identity: { name: 'old', author: '', description: '' }, schema: () => old })
  assert.equal(vaultIdOf(probe.db), undefined, 'the read-only open made none')
  await probe.close()
  const v = await openVault('old', { storage })
  const s = await v.session('a.ts')
  assert.match(s.vault ?? '', /^[0-9a-f]{32}$/)
  await v.close()
  // The id was a commit in the log: the next open replays it.
  const again = await openVault('old', { storage })
  assert.equal((await again.session('b.ts')).vault, s.vault)
  await again.close()
})
