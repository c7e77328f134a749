import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { openVault } from '../../src/node.js'
import type { ChangeEvent, Vault } from '../../src/node.js'
import type { EnginePort } from '../../src/protocol/engine-port.js'

/**
 * Hold the vault's watch polls (`changes.next`) until `open()`: the commits made meanwhile then come
 * back in one answer, as they do when the answer crosses a worker or a tab while commits go on.
 * `answered()` resolves once every poll let through was answered and its callbacks ran.
 */
function holdPolls(v: Vault): { open(): void; answered(): Promise<void> } {
  const port = (v as unknown as { port: EnginePort }).port
  const invoke = port.invoke.bind(port)
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const answers: Promise<unknown>[] = []
  port.invoke = (txId, domain, method, ...rest) => {
    if (domain !== 'changes' || method !== 'next') return invoke(txId, domain, method, ...rest)
    const answer = gate.then(() => invoke(txId, domain, method, ...rest))
    answers.push(answer.catch(() => {}))
    return answer
  }
  return {
    open,
    // The client runs a poll's callbacks in the microtasks after its answer: a macrotask later, all ran.
    answered: async () => {
      await Promise.all(answers)
      await new Promise((r) => setImmediate(r))
    },
  }
}

describe('vault.watch, hostile callbacks', () => {
  test('a callback that stops its own watch hears nothing more, also of changes answered with it', async () => {
    const v = await openVault('watch-self-stop', { storage: 'memory' })
    try {
      const polls = holdPolls(v)
      const heard: ChangeEvent[] = []
      const stop = await v.watch((c) => {
        heard.push(c)
        stop()
      })
      const all: ChangeEvent[] = []
      await v.watch((c) => void all.push(c))
      for (const ns of ['a', 'b', 'c']) await v.kv(ns).set('k', 1)
      polls.open()
      await polls.answered()
      assert.deepEqual(all.map((c) => c.kvNamespaces), [['a'], ['b'], ['c']], 'one answer held the three commits')
      assert.deepEqual(heard.map((c) => c.kvNamespaces), [['a']], 'stopped at the first: the two others were heard after stop()')
    } finally {
      await v.close()
    }
  })

  test('a callback that closes the vault: the watch hears nothing more of the same answer', async () => {
    const v = await openVault('watch-close-inside', { storage: 'memory' })
    const polls = holdPolls(v)
    const heard: ChangeEvent[] = []
    let closing: Promise<void> | undefined
    await v.watch((c) => {
      heard.push(c)
      closing ??= v.close()
    })
    for (const ns of ['a', 'b', 'c']) await v.kv(ns).set('k', 1)
    polls.open()
    await polls.answered()
    assert.ok(closing, 'the callback ran')
    await closing
    assert.deepEqual(heard.map((c) => c.kvNamespaces), [['a']])
  })

  test('a watcher more than 512 commits behind hears one `*` change for those it missed, then the rest in order: never silence, memory bounded', async () => {
    const v = await openVault('watch-flood', { storage: 'memory' })
    try {
      const polls = holdPolls(v)
      const heard: ChangeEvent[] = []
      await v.watch({ kvNamespaces: ['flood'] }, (c) => void heard.push(c))
      for (let i = 0; i < 600; i++) await v.kv('flood').set('k', i)
      polls.open()
      await polls.answered()
      assert.deepEqual(heard[0]!.domains, ['*'], 'the commits that fell out of the feed are reported')
      assert.equal(heard.length, 1 + 512, 'then the 512 the feed keeps')
      for (let i = 1; i < heard.length; i++) assert.ok(heard[i]!.seq > heard[i - 1]!.seq)
    } finally {
      await v.close()
    }
  })
})
