import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ClosedError, InvalidArgumentError, openVault } from '../../src/node.js'
import type { ChangeEvent } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-watch-')

/** Wait (bounded) until `done()`; the caller asserts on what it waited for. */
async function until(done: () => boolean, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
}

// vault.watch's two call forms and its refusals (its code loads on first use: src/domains/changes/client/watch.ts).
describe('vault.watch', () => {
  test('without a callback it is InvalidArgumentError; after close, ClosedError', async () => {
    const v = await openVault('watch-refusals', { storage: 'memory' })
    for (const bad of [[], [{ domains: ['kv'] }], [{}, 'not a function'], [undefined, undefined]] as unknown[][]) {
      await assert.rejects((v.watch as (...a: unknown[]) => Promise<unknown>)(...bad), (err: unknown) => err instanceof InvalidArgumentError && /callback/.test((err as Error).message))
    }
    await v.close()
    await assert.rejects(v.watch(() => {}), ClosedError)
  })

  test('watch(callback) and watch(filter, callback) report commits; stop and close end them', async () => {
    const v = await openVault('watch-forms', { storage: 'memory' })
    const all: ChangeEvent[] = []
    const settings: ChangeEvent[] = []
    const stopAll = await v.watch((c) => all.push(c))
    await v.watch({ kvNamespaces: ['settings'] }, (c) => settings.push(c))
    await v.kv('other').set('a', 1)
    await v.kv('settings').set('b', 2)
    await until(() => all.length >= 2 && settings.length >= 1)
    assert.equal(all.length, 2)
    assert.deepEqual(settings.map((c) => c.kvNamespaces), [['settings']])
    stopAll()
    await v.kv('settings').set('c', 3)
    await until(() => settings.length >= 2)
    assert.equal(settings.length, 2, 'the filtered watch goes on')
    assert.equal(all.length, 2, 'the stopped one reports nothing more')
    await v.close() // stops the other watch: close resolves
  })

  test('a malformed filter is InvalidArgumentError (it was accepted, then heard nothing or everything); an async callback that rejects is its own error', async () => {
    const v = await openVault('watch-filters', { storage: 'memory' })
    const bad: unknown[] = [{ domains: 'kv' }, { kvNamespaces: 'default' }, { domains: ['KV'] }, { domain: ['columns'] }, { externalOnly: 'yes' }, null, ['kv'], 42, { domains: [1] }]
    for (const filter of bad) await assert.rejects(v.watch(filter as never, () => {}), InvalidArgumentError, JSON.stringify(filter))
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const heard: ChangeEvent[] = []
      await v.watch({ domains: ['kv'] }, async (c) => {
        heard.push(c)
        throw new Error('the callback fails')
      })
      await v.kv().set('a', 1)
      await v.kv().set('b', 2)
      await until(() => heard.length >= 2)
      await new Promise((r) => setTimeout(r, 100))
      assert.deepEqual(unhandled, [], 'no unhandled rejection')
    } finally {
      process.off('unhandledRejection', onUnhandled)
      await v.close()
    }
  })

  test('every domain whose tables a change can name is a domain a filter may list', async () => {
    const { WATCHABLE_DOMAINS } = await import('../../src/domains/changes/shared/changes.js')
    const { standardDomains } = await import('../../src/domains/registry.js')
    const withTables = (standardDomains as readonly { name: string; storage?: { tablePrefixes?: readonly string[] } }[]).filter((d) => (d.storage?.tablePrefixes?.length ?? 0) > 0).map((d) => d.name)
    assert.deepEqual([...WATCHABLE_DOMAINS].sort(), [...withTables, 'schema'].sort())
  })
})
