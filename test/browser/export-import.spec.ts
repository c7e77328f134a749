import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { unzipSync, zipSync, type Zippable } from 'fflate'
import { harness } from './harness.js'

// exportVault / importVault in Chromium, from the built package: archives go Node → page (OPFS and
// IndexedDB) → Node with every domain intact, a page's own vault opens on Node, an export runs in
// the leader's worker when another tab has the vault open, and bad archives write nothing.
// Node's side runs in a child process (fixtures/archive-node.ts) from the built-in test support.

const dir = mkdtempSync(join(tmpdir(), 'labvault-archive-'))
const nodeScript = join(import.meta.dirname, 'fixtures', 'archive-node.ts')
const node = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', nodeScript, ...args], { encoding: 'utf8', timeout: 60_000 })

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** In the page: import base64 bytes as `name`, read some of every domain, export again (base64). */
async function throughPage(page: Page, name: string, storage: string, archive: string) {
  return page.evaluate(
    async ([name, storage, archive]) => {
      const { importVault, exportVault, openVault, deleteVault, listVaults } = window.labvault
      await deleteVault(name, { storage: storage as 'opfs' })
      const bytes = Uint8Array.from(atob(archive), (c) => c.charCodeAt(0))
      const progress: number[] = []
      await importVault(name, bytes, { storage: storage as 'opfs', onProgress: (p) => progress.push(p.bytes) })
      const v = await openVault(name, { storage: storage as 'opfs', create: false })
      const seen = {
        listed: (await listVaults({ storage: storage as 'opfs' })).includes(name),
        name: (await v.info()).name,
        lr: await v.kv().get('lr'),
        loss: await (await v.columns.get('loss')).length(),
        docs: await (await v.lists.get('docs')).slice(0),
        scores: (await v.tables.get('scores')).table.numRows,
        prediction: Array.from(((await v.store.getPrediction('pred-1', { arrays: true })) as { arrays: { yPred: ArrayLike<number> } }).arrays.yPred),
        progressEnds: progress.at(-1) === bytes.length,
      }
      await v.close()
      // Exported again from a closed vault (the export starts the engine's worker for it).
      const again = await exportVault(name, { storage: storage as 'opfs' })
      let s = ''
      for (let i = 0; i < again.length; i += 0x8000) s += String.fromCharCode(...again.subarray(i, i + 0x8000))
      return { seen, archive: btoa(s) }
    },
    [name, storage, archive] as const,
  )
}

test('Node → Chromium (OPFS, IndexedDB) → Node: every domain survives both directions', async ({ page }) => {
  const fromNode = join(dir, 'from-node.zip')
  node('make', fromNode)
  await harness(page)
  for (const storage of ['opfs', 'indexeddb']) {
    const { seen, archive } = await throughPage(page, `from-node-${storage}`, storage, toBase64(readFileSync(fromNode)))
    expect(seen).toEqual({
      listed: true,
      name: `from-node-${storage}`,
      lr: 3e-4,
      loss: 70_000,
      docs: ['first doc', 'second doc about zips', 'third 1'],
      scores: 2,
      prediction: [1.5, 3.5],
      progressEnds: true,
    })
    const back = join(dir, `back-${storage}.zip`)
    writeFileSync(back, Buffer.from(archive, 'base64'))
    expect(node('compare', fromNode, back)).toMatch(/^equal kv,settings,columns/)
  }
})

test('a vault made in a page, exported as a stream, opens on Node', async ({ page }) => {
  await harness(page)
  const archive = await page.evaluate(async () => {
    const { openVault, exportVault, deleteVault } = window.labvault
    await deleteVault('page-made', { storage: 'opfs' })
    const v = await openVault('page-made', { storage: 'opfs', author: 'page' })
    await v.kv().set('lr', 0.5)
    await v.kv().set('big', new Uint8Array(700_000).map((_, i) => i & 0xff))
    await (await v.columns.create('loss', 'f64')).extend(Float64Array.from({ length: 50_000 }, (_, i) => i / 2))
    await (await v.lists.create('docs', { type: 'document' })).appendMany(['a', 'b'])
    // Exported while this tab has it open: through its engine, as a stream.
    const stream = await exportVault('page-made', { storage: 'opfs', as: 'stream' })
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer())
    await v.close()
    let s = ''
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    return btoa(s)
  })
  const file = join(dir, 'page-made.zip')
  writeFileSync(file, Buffer.from(archive, 'base64'))
  expect(JSON.parse(node('check-page', file))).toEqual({ name: 'page', author: 'page', lr: 0.5, big: [700_000, 0, (700_000 - 1) & 0xff], loss: [49_998 / 2, 49_999 / 2], lossLength: 50_000, docs: ['a', 'b'] })
})

test('another tab has the vault open: the export runs in its worker; importing over it is refused', async ({ page, context }) => {
  await harness(page)
  await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    await deleteVault('shared-tab', { storage: 'opfs' })
    const v = await openVault('shared-tab', { storage: 'opfs' })
    await v.kv().set('k', 'from the leader')
    ;(window as unknown as { held: unknown }).held = v
  })
  const other = await context.newPage()
  await harness(other)
  const result = await other.evaluate(async () => {
    const { exportVault, importVault, openVault, ConflictError } = window.labvault
    const bytes = await exportVault('shared-tab', { storage: 'opfs' })
    let refused = ''
    try {
      await importVault('shared-tab', bytes, { storage: 'opfs', replace: true })
    } catch (e) {
      refused = e instanceof ConflictError ? 'ConflictError' : String(e)
    }
    await importVault('shared-tab-copy', bytes, { storage: 'opfs', replace: true })
    const copy = await openVault('shared-tab-copy', { storage: 'opfs' })
    const k = await copy.kv().get('k')
    await copy.close()
    return { refused, k }
  })
  expect(result).toEqual({ refused: 'ConflictError', k: 'from the leader' })
  await other.close()
})

test('bad archives are refused in the page with typed errors and nothing written (OPFS and IndexedDB)', async ({ page }) => {
  const good = join(dir, 'good.zip')
  node('make', good)
  await harness(page)
  const results = await page.evaluate(async (archive) => {
    const { importVault, listVaults, openVault } = window.labvault
    const bytes = Uint8Array.from(atob(archive), (c) => c.charCodeAt(0))
    const out: Record<string, string> = {}
    for (const storage of ['opfs', 'indexeddb'] as const) {
      const attempts: [string, Uint8Array | Blob][] = [
        ['truncated', bytes.subarray(0, Math.floor(bytes.length / 2))],
        ['not a zip', new Blob([new Uint8Array(4096).fill(1)])],
      ]
      for (const [what, input] of attempts) {
        try {
          await importVault('bad', input, { storage })
          out[`${storage} ${what}`] = 'accepted'
        } catch (e) {
          out[`${storage} ${what}`] = `${(e as Error).name} listed=${(await listVaults({ storage })).includes('bad')}`
        }
      }
      // And a good one, aborted half-way: StoppedError, nothing written.
      const c = new AbortController()
      try {
        await importVault('bad', bytes, { storage, signal: c.signal, onProgress: (p) => p.bytes > 100_000 && c.abort() })
      } catch (e) {
        out[`${storage} aborted`] = `${(e as Error).name} listed=${(await listVaults({ storage })).includes('bad')}`
      }
      try {
        await openVault('bad', { storage, create: false })
        out[`${storage} opens`] = 'yes'
      } catch (e) {
        out[`${storage} opens`] = (e as Error).name
      }
    }
    return out
  }, toBase64(readFileSync(good)))
  expect(results).toEqual({
    'opfs truncated': 'CorruptionError listed=false',
    'opfs not a zip': 'InvalidArgumentError listed=false',
    'opfs aborted': 'StoppedError listed=false',
    'opfs opens': 'NotFoundError',
    'indexeddb truncated': 'CorruptionError listed=false',
    'indexeddb not a zip': 'InvalidArgumentError listed=false',
    'indexeddb aborted': 'StoppedError listed=false',
    'indexeddb opens': 'NotFoundError',
  })
})

test('an archive whose image refers to a blob it does not hold is refused in the OPFS import worker and on the page (IndexedDB, memory), nothing written', async ({ page }) => {
  const good = join(dir, 'good-for-lacking.zip')
  node('make', good)
  const all = unzipSync(readFileSync(good))
  const [headerName] = Object.keys(all)
  const header = JSON.parse(new TextDecoder().decode(all[headerName!]!)) as { files: { path: string }[] }
  const drop = header.files.find((f) => f.path.startsWith('blobs/'))!.path
  const files: Zippable = {}
  for (const f of header.files) if (f.path !== drop) files[f.path] = all[f.path]!
  const lacking = zipSync({ [headerName!]: new TextEncoder().encode(JSON.stringify({ ...header, files: header.files.filter((f) => f.path !== drop) })), ...files })
  await harness(page)
  const result = await page.evaluate(async (archive) => {
    const { importVault, listVaults } = window.labvault
    const bytes = Uint8Array.from(atob(archive), (c) => c.charCodeAt(0))
    const out: Record<string, string> = {}
    // IndexedDB and memory imports run on the page's thread: before, they did not check and the
    // archive imported (its reads of that value failed later).
    for (const storage of ['opfs', 'indexeddb', 'memory'] as const) {
      try {
        await importVault('lacking', bytes, { storage })
        out[storage] = 'accepted'
      } catch (e) {
        out[storage] = `${(e as Error).name} ${/does not hold/.test((e as Error).message)} listed=${(await listVaults({ storage })).includes('lacking')}`
      }
    }
    return out
  }, toBase64(lacking))
  expect(result).toEqual({ opfs: 'CorruptionError true listed=false', indexeddb: 'CorruptionError true listed=false', memory: 'CorruptionError true listed=false' })
})

test('a blob over 16 MiB imports into OPFS (the import worker) and IndexedDB (the page), written as it arrives, and reads back equal', async ({ page }) => {
  test.setTimeout(180_000)
  await harness(page)
  const result = await page.evaluate(async () => {
    const { importVault, exportVault, openVault, deleteVault } = window.labvault
    // 34 MiB of random bytes: over the 16 MiB a file is held whole below, and past one 32 MiB sync.
    const big = new Uint8Array(34 * 1024 * 1024 + 5)
    for (let at = 0; at < big.length; at += 65536) crypto.getRandomValues(big.subarray(at, at + 65536))
    const hex = async (b: Uint8Array) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)), (x) => x.toString(16).padStart(2, '0')).join('')
    const want = await hex(big)
    await deleteVault('big-src', { storage: 'opfs' })
    const v = await openVault('big-src', { storage: 'opfs' })
    await v.kv().set('big', big)
    await v.close()
    const archive = await exportVault('big-src', { storage: 'opfs', level: 0 })
    const out: Record<string, boolean> = {}
    for (const storage of ['opfs', 'indexeddb'] as const) {
      await deleteVault('big-copy', { storage })
      await importVault('big-copy', new Blob([archive as Uint8Array<ArrayBuffer>]), { storage })
      const copy = await openVault('big-copy', { storage, create: false })
      out[storage] = (await hex((await copy.kv().get('big')) as Uint8Array)) === want
      await copy.close()
      await deleteVault('big-copy', { storage })
    }
    await deleteVault('big-src', { storage: 'opfs' })
    return out
  })
  expect(result).toEqual({ opfs: true, indexeddb: true })
})
