/**
 * A vault replaced under a process that has it open: by importVault(replace) or deleteVault of
 * another process while the open is under way, or by a backup of it restored with other tools.
 *
 * - An open that starts after an import or a deletion in another process looked at the open marks
 *   (so that neither refused the other) used to read the files about to be replaced, resolve, and
 *   then fail at its next call (ConflictError, or CorruptionError when the same archive was
 *   imported again). It now waits for the import or deletion (which holds the vault's lock with
 *   that purpose) and opens what is there after.
 * - A process whose vault is replaced by an older generation of itself (a restored backup), or by
 *   a newer generation that does not contain the records it applied (the same archive imported
 *   again, a backup checkpointed elsewhere), got CorruptionError ("log missing", "applied record
 *   n, past the checkpoint") for a sound vault; it is ConflictError ("replaced … reopen it"), as
 *   for any other replacement (docs/durability.md).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { cpSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConflictError, exportVault, importVault, NodeFsAdapter, openVault } from '../../src/node.js'
import { deleteFsVault } from '../../src/sharing/node/node-vault-delete.js'
import { checkDeletableVault } from '../../src/persistence/vault-folder.js'
import { startEventChild } from '../support/child-events.js'
import { tempDir } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/open-during-replace-child.ts', import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Resolves once `condition` holds (polled), failing after `ms` rather than waiting forever. */
async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`)
    await sleep(5)
  }
}

/** The text of vault `name`'s lock file in `dir` ('' when there is none). */
function lockText(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name, '.lock'), 'utf8')
  } catch {
    return ''
  }
}

/** A promise and the function that resolves it. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void
  const wait = new Promise<void>((r) => (open = r))
  return { wait, open }
}

/**
 * Start a child that opens vault `v` of `dir`; once it is about to open, give it up to `ms` to
 * finish opening (before the fix it did, on the files being replaced), then run `release`.
 * Returns the child and what it reported at open, and whether that came before `release`.
 */
async function openDuring(dir: string, release: () => Promise<void>, ms = 4000) {
  const child = startEventChild(fixture, { dir, name: 'v' }, { stdin: true, timeoutMs: 60_000 })
  await child.next('starting')
  let openedFirst = false
  const opened = child.next('open').then((e) => ((openedFirst = !released), e))
  let released = false
  await Promise.race([opened, sleep(ms)])
  await release()
  released = true
  const open = await opened
  child.proc.stdin!.write('go\n')
  const after = await child.next('after')
  await child.next('closed')
  return { open, after, openedFirst }
}

describe('a vault replaced under a process that has it open', { timeout: 120_000 }, () => {
  test('an open in another process during importVault(replace) waits for it and opens the imported vault', async () => {
    const dir = tempDir('labvault-replaced-')
    const opts = { storage: 'fs' as const, path: dir }
    const src = await openVault('src', opts)
    await src.kv().set('x', 'from the archive')
    await src.close()
    const archive = await exportVault('src', opts)
    await importVault('v', archive, opts)
    const w = await openVault('v', opts)
    await w.kv().set('x', 'written before the replace') // a record past the imported image
    await w.close()

    // The same archive again, over it, its bytes held back after the first chunk: the import has
    // looked at the open marks and holds the lock while the child opens.
    const more = gate()
    let first = true
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (first) {
          first = false
          c.enqueue(archive.subarray(0, 64))
          return
        }
        await more.wait
        c.enqueue(archive.subarray(64))
        c.close()
      },
    })
    const importing = importVault('v', stream, { ...opts, replace: true })
    await until(() => /"purpose":"import"/.test(lockText(dir, 'v')), 'the import to hold the lock')
    const { open, after, openedFirst } = await openDuring(dir, async () => {
      more.open()
      await importing
    })
    assert.equal(openedFirst, false, 'the open waited for the import')
    assert.equal(open.x, 'from the archive')
    assert.deepEqual(after.get, { ok: true, value: 'from the archive' })
    assert.deepEqual(after.set, { ok: true })
    const v = await openVault('v', opts)
    assert.equal(await v.kv().get('y'), 'written after')
    await v.close()
  })

  test('an open in another process during deleteVault waits for it and finds the vault gone', async () => {
    const dir = tempDir('labvault-replaced-')
    const opts = { storage: 'fs' as const, path: dir }
    const v = await openVault('v', opts)
    await v.kv().set('x', 'old')
    await v.close()
    // deleteVault's own code, its check under the lock (just before the folder is moved) held back.
    const adapter = new NodeFsAdapter(dir)
    const proceed = gate()
    let checks = 0
    const deleting = deleteFsVault(dir, 'v', async () => {
      if (++checks === 2) await proceed.wait
      return checkDeletableVault(adapter, 'v')
    })
    await until(() => checks >= 2, "the deletion's check under the lock")
    const { open, after, openedFirst } = await openDuring(dir, async () => {
      proceed.open()
      assert.equal(await deleting, true)
    })
    assert.equal(openedFirst, false, 'the open waited for the deletion')
    assert.equal(open.x, null, 'a new vault was created after the deletion')
    assert.deepEqual(after.get, { ok: true })
    assert.deepEqual(after.set, { ok: true })
    await adapter.close()
  })

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
