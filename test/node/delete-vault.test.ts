/**
 * deleteVault on Node refuses a vault that is open, and a crash midway never leaves half a vault:
 * - a vault open in this process (fs, memory, a StorageAdapter of the caller's), also one whose
 *   openVault has not settled yet, is refused with ConflictError and left intact; once every handle
 *   closed it is deleted (before: its files were removed under the open engine);
 * - a vault being deleted here cannot be opened or imported meanwhile, nor one being imported deleted;
 * - a vault open through a symbolic link to its folder counts as open through the folder;
 * - a deletion killed halfway through removing the files (a real process, SIGKILL) leaves no vault
 *   rather than a vault whose blobs are gone (before: `rm -rf` of the folder itself left manifests
 *   naming missing files: the vault opened and its values read as CorruptionError); what it left in
 *   the trash folder goes at the next deletion.
 * (A vault open in another process: test/node/files.test.ts.)
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { ConflictError, MemoryAdapter, NotFoundError, deleteVault, exportVault, importVault, listVaults, openVault, type LocationOptions } from '../../src/node.js'
import { tempDir } from './helpers.js'

const CRASH_CHILD = fileURLToPath(new URL('./fixtures/delete-crash-child.ts', import.meta.url))

const isConflict = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ConflictError, String(err))
  assert.match(err.message, pattern)
  return true
}

describe('deleteVault of a vault open in this process', () => {
  const locations: [string, () => LocationOptions][] = [
    ['fs', () => ({ storage: 'fs', path: tempDir() })],
    ['memory', () => ({ storage: 'memory' })],
    ['a StorageAdapter', () => ({ storage: new MemoryAdapter() })],
  ]
  for (const [what, location] of locations) {
    test(`${what}: refused while any handle is open, deleted once all closed`, async () => {
      const where = location()
      const name = `open-${what.length}`
      const a = await openVault(name, where)
      const b = await openVault(name, where)
      await a.kv().set('kept', 'yes')
      await assert.rejects(deleteVault(name, where), isConflict(/open in this process.*nothing was deleted/))
      await a.close()
      await assert.rejects(deleteVault(name, where), isConflict(/open in this process/))
      // Nothing was deleted: the handle still open writes and reads on.
      await b.kv().set('after', 1)
      assert.deepEqual(await b.kv().entries(), [['after', 1], ['kept', 'yes']])
      await b.close()
      assert.equal(await deleteVault(name, where), true)
      assert.deepEqual(await listVaults(where), [])
      assert.equal(await deleteVault(name, where), false)
    })
  }

  test('an openVault that has not settled yet counts as open', async () => {
    const where: LocationOptions = { storage: 'fs', path: tempDir() }
    const opening = openVault('early', where)
    await assert.rejects(deleteVault('early', where), isConflict(/open in this process/))
    const v = await opening
    await v.kv().set('x', 1)
    await v.close()
    assert.equal(await deleteVault('early', where), true)
  })

  test('a vault open through a symbolic link to its folder is open through the folder too (and the other way round)', async () => {
    const real = tempDir()
    const link = join(tempDir(), 'link')
    symlinkSync(real, link)
    const v = await openVault('linked', { path: link })
    await v.kv().set('x', 1)
    await assert.rejects(deleteVault('linked', { path: real }), isConflict(/open in this process/))
    // One engine for both paths: a handle through the folder sees the write at once.
    const w = await openVault('linked', { path: join(real, '.') })
    assert.equal(await w.kv().get('x'), 1)
    await w.close()
    await v.close()
    assert.equal(await deleteVault('linked', { path: real }), true)
  })

  test('a vault being deleted cannot be opened or imported meanwhile; one being imported cannot be deleted', async () => {
    const where: LocationOptions = { storage: 'fs', path: tempDir() }
    const v = await openVault('busy', where)
    await v.kv().set('x', 1)
    await v.close()
    const archive = await exportVault('busy', where)
    const deleting = deleteVault('busy', where)
    await assert.rejects(openVault('busy', where), isConflict(/being deleted in this process/))
    await assert.rejects(importVault('busy', archive, where), isConflict(/being deleted in this process/))
    await assert.rejects(deleteVault('busy', where), isConflict(/being deleted in this process/))
    assert.equal(await deleting, true)
    const importing = importVault('busy', archive, where)
    await assert.rejects(deleteVault('busy', where), isConflict(/being imported in this process/))
    await importing
    const again = await openVault('busy', { ...where, create: false })
    assert.equal(await again.kv().get('x'), 1)
    await again.close()
  })
})

describe('a deletion killed halfway', () => {
  test('leaves no vault (never one whose files are half gone), and its leftovers go at the next deletion', async () => {
    const dir = tempDir()
    const where: LocationOptions = { storage: 'fs', path: dir }
    const v = await openVault('lab', where)
    for (let i = 0; i < 6; i++) await v.kv().set(`big${i}`, new Uint8Array(300 * 1024).fill(i + 1)) // blob files
    await v.kv().set('small', 'value')
    await v.checkpoint()
    await v.close()
    const other = await openVault('other', where)
    await other.kv().set('o', 1)
    await other.close()

    const run = spawnSync(process.execPath, ['--import', 'tsx', CRASH_CHILD, JSON.stringify({ dir, name: 'lab' })], { encoding: 'utf8' })
    assert.equal(run.signal, 'SIGKILL', `the child was not killed mid-deletion: ${run.stdout} ${run.stderr}`)

    // Either the vault is whole or it is gone; here the deletion had begun removing files, so gone.
    await assert.rejects(openVault('lab', { ...where, create: false }), NotFoundError)
    assert.deepEqual(await listVaults(where), ['other'])
    assert.ok(existsSync(join(dir, '.labvault-trash')), 'the killed deletion left its half-removed folder in the trash')
    // The name is free again, and the next deletion empties the trash.
    const fresh = await openVault('lab', where)
    assert.deepEqual(await fresh.kv().keys(), [])
    await fresh.close()
    assert.equal(await deleteVault('other', where), true)
    assert.equal(existsSync(join(dir, '.labvault-trash')), false)
    assert.deepEqual(readdirSync(dir).filter((f) => !f.startsWith('.')), ['lab'])
  })
})
