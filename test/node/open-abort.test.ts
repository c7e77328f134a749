// openVault's `signal` stops an open wherever it waits (src/client/abortable-open.ts): before,
// it was looked at only before and after the open, so an open waiting for another process's lock
// or for a host that does not answer went on waiting (up to lockTimeoutMs, or the host's timeout)
// after its signal had aborted. Now the promise rejects with the signal's reason at once; what the
// open still goes on to open is closed once it is ready, so it holds no lock and no engine. The
// browser half (an open waiting for the engine's download) is in test/browser/worker-start.spec.ts.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { openVault } from '../../src/node.js'
import { startChild } from './sharing-helpers.js'
import { startStaticServer } from '../support/static-server.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-open-abort-')

/** How a promise ended: 'resolved', or the name of what it rejected with. */
function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (err: { name?: string }) => String(err?.name),
  )
}

describe("openVault's signal", { timeout: 90_000 }, () => {

  test('an open waiting for the lock another process holds rejects with AbortError when its signal aborts, and then releases what it opened', async () => {
    // A child holds the vault exclusively from its open until told to quit.
    const holder = startChild({ dir, name: 'held', action: 'set', options: { sharing: 'exclusive' } })
    await holder.next('open')
    holder.send(JSON.stringify(['before', 'kept']))
    await holder.next('set')
    const controller = new AbortController()
    // A lock timeout far beyond the test's own: only the signal can end this wait in time.
    const opening = openVault('held', { storage: 'fs', path: dir, sharing: 'exclusive', lockTimeoutMs: 600_000, signal: controller.signal })
    const ended = outcome(opening)
    // The open is still waiting for the lock a moment later (the child holds it).
    const early = await Promise.race([ended, new Promise((r) => setTimeout(() => r('waiting'), 300))])
    assert.equal(early, 'waiting')
    controller.abort()
    // Rejected while the child still holds the lock: it was not waited for.
    assert.equal(await ended, 'AbortError')
    holder.send('quit')
    await holder.exited
    // The aborted open went on, got the lock once the child let go, and let go of it again: another
    // process can hold the vault exclusively, and what the first child wrote is there.
    const next = startChild({ dir, name: 'held', action: 'set', options: { sharing: 'exclusive', lockTimeoutMs: 30_000 } })
    await next.next('open', 40_000)
    next.send(JSON.stringify(['after', 'also']))
    await next.next('set')
    next.send('quit')
    await next.exited
    const v = await openVault('held', { storage: 'fs', path: dir })
    assert.equal(await v.kv().get('before'), 'kept')
    assert.equal(await v.kv().get('after'), 'also')
    await v.close()
  })

  test('an open of a vault over HTTP waiting for a host that does not answer rejects with AbortError when its signal aborts', async () => {
    const made = await openVault('served', { storage: 'fs', path: dir })
    await made.kv().set('k', 'v')
    await made.close()
    const server = await startStaticServer(dir)
    try {
      server.hang = /manifest/
      const controller = new AbortController()
      const ended = outcome(openVault(`${server.url}served/`, { storage: 'http', http: { timeoutMs: 600_000 }, signal: controller.signal }))
      const early = await Promise.race([ended, new Promise((r) => setTimeout(() => r('waiting'), 300))])
      assert.equal(early, 'waiting')
      controller.abort()
      assert.equal(await ended, 'AbortError')
      // The host answers again: the same vault opens and reads.
      server.hang = undefined
      const v = await openVault(`${server.url}served/`, { storage: 'http' })
      assert.equal(await v.kv().get('k'), 'v')
      await v.close()
    } finally {
      await server.close()
    }
  })

  test('a signal aborted before the call: rejects with its reason and creates nothing', async () => {
    const controller = new AbortController()
    const reason = new Error('not now')
    controller.abort(reason)
    await assert.rejects(openVault('never-made', { storage: 'fs', path: dir, signal: controller.signal }), (err) => err === reason)
    assert.equal(existsSync(join(dir, 'never-made')), false)
  })

  test('a signal that aborts after the open ended changes nothing: the vault stays open', async () => {
    const controller = new AbortController()
    const v = await openVault('opened', { storage: 'fs', path: dir, signal: controller.signal })
    controller.abort()
    await v.kv().set('k', 1)
    assert.equal(await v.kv().get('k'), 1)
    await v.close()
  })
})
