// Handles carry the identity of what they point at (issue 8, item 5): a handle on a deleted column
// or list never reaches another one of the same name, whoever deleted and re-created it.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { AlreadyExistsError, NotFoundError, openVault, type Column, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir()
let counter = 0
const open = (name: string): Promise<Vault> => openVault(name, { storage: 'fs', path: dir })
const fresh = (): Promise<Vault> => open(`h${++counter}`)
const nodeEntry = fileURLToPath(new URL('../../src/node.ts', import.meta.url))

/** Run `body` in another Node process with `vault` open on the same files. */
async function inOtherProcess(name: string, body: string): Promise<void> {
  const script = `import { openVault } from ${JSON.stringify(nodeEntry)}
const vault = await openVault(${JSON.stringify(name)}, { storage: 'fs', path: ${JSON.stringify(dir)} })
${body}
await vault.close()`
  await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script])
}

/** Every call through a stale column handle rejects with NotFoundError. */
async function assertStale(c: Column<any>): Promise<void> {
  const isStale = (err: unknown) => err instanceof NotFoundError && /was deleted/.test((err as Error).message)
  await assert.rejects(c.append(2.5 as never), isStale)
  await assert.rejects(c.extend([1, 2] as never), isStale)
  await assert.rejects(c.length(), isStale)
  await assert.rejects(c.get(0), isStale)
  await assert.rejects(c.slice(), isStale)
  await assert.rejects(c.info(), isStale)
  await assert.rejects(c.set(0, 1 as never), isStale)
  await assert.rejects(c.insert(0, 1 as never), isStale)
  await assert.rejects(c.delete(0), isStale)
  await assert.rejects(c.clear(), isStale)
}

describe('handles: columns', () => {
  test('delete + re-create with another dtype: the old handle is stale, the new column untouched', async () => {
    const v = await fresh()
    const old = await v.columns.create('c', 'f64')
    await old.extend([1, 2, 3])
    await v.columns.delete('c')
    const now = await v.columns.create('c', 'i64')
    await now.append(7n)
    await assertStale(old)
    assert.deepEqual(Array.from(await now.slice()), [7n])
    const again = await open(v.name)
    await v.close()
    assert.deepEqual(Array.from(await (await again.columns.get('c')).slice()), [7n])
    await again.close()
  })

  test('re-created with the same dtype (and possibly the same row id): still stale', async () => {
    const v = await fresh()
    const old = await v.columns.create('c', 'str:utf8')
    await v.columns.delete('c')
    const now = await v.columns.create('c', 'str:utf8')
    await now.append('new')
    await assert.rejects(old.append('stale'), NotFoundError)
    assert.deepEqual(await now.slice(), ['new'])
    // A handle obtained again is current; columns.get of the old name gives the new column.
    assert.deepEqual(await (await v.columns.get('c')).slice(), ['new'])
    await v.close()
  })

  test('across two vault handles of one process (one engine)', async () => {
    const a = await fresh()
    const b = await open(a.name)
    const stale = await a.columns.create('c', 'f64')
    await stale.append(1.5)
    await b.columns.delete('c')
    const now = await b.columns.create('c', 'i64')
    await assertStale(stale)
    assert.equal(await now.length(), 0)
    await a.close()
    await b.close()
  })

  test('across processes: another process deletes and re-creates the column', async () => {
    const v = await fresh()
    const stale = await v.columns.create('c', 'f64')
    await stale.append(1.5)
    await inOtherProcess(v.name, `await vault.columns.delete('c'); await (await vault.columns.create('c', 'i64')).append(5n)`)
    await assert.rejects(stale.append(2.5), NotFoundError)
    await assert.rejects(stale.slice(), NotFoundError)
    assert.deepEqual(Array.from(await (await v.columns.get('c')).slice()), [5n])
    await v.close()
  })

  test('a handle on a column whose creation was rolled back does not reach a later column of that name', async () => {
    const v = await fresh()
    let seenOutside: Column<any> | undefined
    await assert.rejects(
      v.transaction(async (tx) => {
        await tx.columns.create('c', 'f64')
        // Reads outside an open transaction see its changes (one connection): this handle points at
        // a column the rollback removes.
        seenOutside = await v.columns.get('c')
        throw new Error('roll back')
      }),
      /roll back/,
    )
    const now = await v.columns.create('c', 'f64')
    await assert.rejects(seenOutside!.append(1), NotFoundError)
    await now.append(2)
    assert.deepEqual(Array.from(await now.slice()), [2])
    await v.close()
  })

  test('a buffered write cache of a stale handle is refused, not written into the new column', async () => {
    const v = await fresh()
    const old = await v.columns.create('c', 'f64')
    old.enableCache()
    await old.append(2.5)
    await v.columns.delete('c')
    await v.columns.create('c', 'i64')
    // delete() through the same `vault.columns` drops the old handle's buffer; a handle from another
    // vault object keeps it and its flush is refused.
    const other = await open(v.name)
    const o = await other.columns.create('d', 'f64')
    o.enableCache()
    await o.append(1.25)
    await v.columns.delete('d')
    await v.columns.create('d', 'i64')
    await assert.rejects(o.flush(), NotFoundError)
    assert.equal(await (await v.columns.get('d')).length(), 0)
    await other.close().catch(() => {})
    await v.close()
  })
})

describe('handles: item lists', () => {
  test('a deleted list handle gets NotFoundError; its name stays reserved, so nothing else is reached', async () => {
    const v = await fresh()
    const docs = await v.lists.create('docs', { type: 'document' })
    await docs.append('hello')
    assert.equal(await v.lists.delete('docs'), true)
    await assert.rejects(docs.append('stale'), NotFoundError)
    await assert.rejects(docs.size(), NotFoundError)
    await assert.rejects(v.lists.create('docs', { type: 'record', fields: ['a'] }), AlreadyExistsError)
    await v.close()
  })

  test('a list created in a rolled-back transaction: a handle on it does not reach the list created later under its name', async () => {
    const v = await fresh()
    let seenOutside: Awaited<ReturnType<Vault['lists']['get']>> | undefined
    await assert.rejects(
      v.transaction(async (tx) => {
        await tx.lists.create('x', { type: 'document' })
        // Reads outside an open transaction see its changes (one connection): a handle made now
        // points at a list that the rollback removes.
        seenOutside = await v.lists.get('x')
        throw new Error('roll back')
      }),
      /roll back/,
    )
    const records = await v.lists.create('x', { type: 'record', fields: ['a'] })
    await assert.rejects((seenOutside as { append(v: unknown): Promise<number> }).append('a document'), NotFoundError)
    assert.equal(await records.size(), 0)
    await v.close()
  })

  test('across processes: another process deletes the list', async () => {
    const v = await fresh()
    const docs = await v.lists.create('docs', { type: 'document' })
    await docs.append('hello')
    await inOtherProcess(v.name, `await vault.lists.delete('docs')`)
    await assert.rejects(docs.append('stale'), NotFoundError)
    await v.close()
  })
})
