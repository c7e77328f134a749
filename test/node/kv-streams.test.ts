import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { UnsupportedError, openVault } from '../../src/node.js'
import { VaultEngine } from '../../src/engine/vault-engine.js'
import { standardDomains } from '../../src/domains/registry.js'
import { kvDomain } from '../../src/domains/kv/engine/kv-domain.js'
import { NodeFsAdapter } from '../../src/storage/node-fs-adapter.js'
import { tempDir } from './helpers.js'

// kv.setStream() / kv.getStream(): the cases every environment runs are in
// test/conformance/kv-conformance.ts; here, what needs Node: memory measured in a child process,
// and the blob files on disk.

const dir = tempDir()
const run = promisify(execFile)

function blobFiles(name: string): number {
  return readdirSync(join(dir, name, 'blobs'), { recursive: true }).filter((f) => String(f).length > 40).length
}

describe('kv streams', () => {
  test('a 200 MB value is written and read back with bounded memory (well under its size)', async () => {
    const size = 200 * 1024 * 1024
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/node/fixtures/stream-memory-child.ts', dir, String(size)], { maxBuffer: 1 << 20 })
    const r = JSON.parse(stdout.trim()) as { size: number; read: number; writePeak: number; readPeak: number }
    assert.equal(r.read, size, 'every byte came back')
    // Held at once: a chunk being filled, one in flight, one read ahead (4 MiB each) and their copies.
    const bound = 32 * 1024 * 1024
    assert.ok(r.writePeak < bound, `writing held ${(r.writePeak / 2 ** 20).toFixed(1)} MiB at its peak (bound 32 MiB)`)
    assert.ok(r.readPeak < bound, `reading held ${(r.readPeak / 2 ** 20).toFixed(1)} MiB at its peak (bound 32 MiB)`)
  })

  test('the chunks of a failed or replaced stream are collected; a committed one keeps its chunks', async () => {
    const v = await openVault('stream-blobs', { storage: 'fs', path: dir })
    const chunk = (fill: number) => new Uint8Array(4 << 20).fill(fill)
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield chunk(1)
      yield chunk(2)
      throw new Error('broke')
    }
    await assert.rejects(v.kv().setStream('k', failing()), /broke/)
    await v.optimize()
    assert.equal(blobFiles('stream-blobs'), 0, 'the chunks of a failed stream were collected')
    await v.kv().setStream('k', [chunk(3), chunk(4), new Uint8Array(10)])
    await v.optimize()
    assert.equal(blobFiles('stream-blobs'), 3, 'a committed stream keeps its three chunks')
    await v.kv().setStream('k', [chunk(5)])
    await v.optimize()
    assert.equal(blobFiles('stream-blobs'), 1, 'replacing the value frees the old chunks')
    await v.close()
    const again = await openVault('stream-blobs', { storage: 'fs', path: dir })
    assert.deepEqual((await again.kv().get('k')) as Uint8Array, chunk(5))
    await again.close()
  })

  test("a process's undo snapshot of a streamed value keeps its chunks until the process ends", async () => {
    const v = await openVault('stream-undo', { storage: 'fs', path: dir })
    await v.kv().setStream('k', [new Uint8Array(4 << 20).fill(7), new Uint8Array(5)])
    const p = await v.processes.start('job')
    await p.begin('rewrite', { keys: [{ key: 'k' }] })
    await v.kv().set('k', 'replaced inside the process')
    await v.optimize()
    assert.equal(blobFiles('stream-undo'), 2, 'the snapshot keeps the chunks alive')
    await v.processes.stop(p.id, { force: true })
    const back = (await v.kv().get('k')) as Uint8Array
    assert.equal(back.length, (4 << 20) + 5, 'rolling back restores the streamed value')
    assert.equal(back[0], 7)
    await v.close()
  })
})

describe('schema versions', () => {
  test('a vault whose data a newer build wrote (a higher domain version) is refused, read-only too, and left untouched', async () => {
    const v = await openVault('newer', { storage: 'fs', path: dir })
    await v.kv().set('a', 1)
    await v.close()
    // A "newer build": the same domains, the key-value one a version ahead.
    const ahead = standardDomains.map((d) => (d === kvDomain ? { ...kvDomain, storage: { ...kvDomain.storage!, version: kvDomain.storage!.version + 1 } } : d))
    const engine = await VaultEngine.open({ name: 'newer', storage: new NodeFsAdapter(dir), ownsStorage: true, domains: ahead })
    await engine.close()
    const before = snapshot(join(dir, 'newer'))
    await assert.rejects(openVault('newer', { storage: 'fs', path: dir }), (err: unknown) => err instanceof UnsupportedError && /newer labvault/.test(err.message))
    await assert.rejects(openVault('newer', { storage: 'fs', path: dir, readOnly: true }), UnsupportedError)
    assert.deepEqual(snapshot(join(dir, 'newer')), before, 'no file changed')
  })
})

/** Every file under `root` with its bytes (as hex of a hash would do; the bytes are small here). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of readdirSync(root, { recursive: true }) as string[]) {
    const p = join(root, f)
    if (statSync(p).isFile()) out[f] = readFileSync(p).toString('base64')
  }
  return out
}
