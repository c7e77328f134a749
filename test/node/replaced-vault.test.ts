/**
 * A vault replaced under a process that has it open, by a backup of it restored with other tools.
 *
 * - A process whose vault is replaced by an older generation of itself (a restored backup), or by
 *   a newer generation that does not contain the records it applied (the same archive imported
 *   again, a backup checkpointed elsewhere), got CorruptionError ("log missing", "applied record
 *   n, past the checkpoint") for a sound vault; it is ConflictError ("replaced … reopen it"), as
 *   for any other replacement (docs/durability.md).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ConflictError, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

describe('a vault replaced under a process that has it open', { timeout: 120_000 }, () => {
  test('a backup of an older generation restored under an open vault: ConflictError, not CorruptionError', async () => {
    const dir = tempDir('labvault-replaced-')
    const opts = { storage: 'fs' as const, path: dir }
    const v = await openVault('v', opts)
    await v.kv().set('a', 1)
    await v.close()
    cpSync(join(dir, 'v'), join(dir, 'backup'), { recursive: true })
    const w = await openVault('v', opts)
    await w.kv().set('b', 2)
    await w.checkpoint()
    rmSync(join(dir, 'v'), { recursive: true })
    cpSync(join(dir, 'backup'), join(dir, 'v'), { recursive: true })
    await assert.rejects(w.kv().get('a'), (err) => err instanceof ConflictError && /replaced/.test((err as Error).message))
    await assert.rejects(w.kv().set('c', 3), ConflictError)
    await w.close().catch(() => {})
    const r = await openVault('v', opts)
    assert.equal(await r.kv().get('a'), 1)
    await r.close()
  })

  test('a backup checkpointed elsewhere (newer generation, fewer records) restored under an open vault: ConflictError', async () => {
    const dir = tempDir('labvault-replaced-')
    const other = tempDir('labvault-replaced-other-')
    const opts = { storage: 'fs' as const, path: dir }
    const v = await openVault('v', opts)
    await v.kv().set('a', 1)
    await v.close()
    cpSync(join(dir, 'v'), join(other, 'v'), { recursive: true })
    const w = await openVault('v', opts)
    await w.kv().set('b', 2)
    await w.kv().set('c', 3)
    // The backup, checkpointed where it lies, then restored.
    const b = await openVault('v', { storage: 'fs', path: other })
    await b.checkpoint()
    await b.close()
    rmSync(join(dir, 'v'), { recursive: true })
    cpSync(join(other, 'v'), join(dir, 'v'), { recursive: true })
    await assert.rejects(w.kv().get('a'), (err) => err instanceof ConflictError && /replaced/.test((err as Error).message))
    await w.close().catch(() => {})
    const r = await openVault('v', opts)
    assert.equal(await r.kv().get('a'), 1)
    assert.equal(await r.kv().get('b'), undefined)
    await r.close()
  })
})
