import assert from 'node:assert/strict'
import { test } from 'node:test'
import { UnsupportedError } from '../../src/errors/errors.js'
import { beginStep, bounded, stepsNow } from '../../src/domains/sql/engine/start-steps.js'

// DuckDB's start bounds each of its local steps (src/domains/sql/engine/start-steps.ts): a step
// that never settles fails with UnsupportedError naming it, instead of leaving every query waiting.
// The queries' own timeoutMs and signal stopping a wait for the start are in the SQL conformance
// suite (test/conformance/sql-conformance.ts), in Node and in Chromium.

test('a step that never settles fails with UnsupportedError naming it; what it yields late is discarded', async () => {
  let settle!: (value: string) => void
  const never = new Promise<string>((resolve) => (settle = resolve))
  const discarded: string[] = []
  const step = bounded(never, "opening the cache file's OPFS access handles", (late) => discarded.push(late), 40)
  assert.equal(stepsNow(), "opening the cache file's OPFS access handles")
  await assert.rejects(step, (err: unknown) => {
    assert.ok(err instanceof UnsupportedError)
    assert.match((err as Error).message, /^sql: DuckDB's start stalled: opening the cache file's OPFS access handles did not finish within 0\.04 s$/)
    return true
  })
  assert.equal(stepsNow(), '', 'a stalled step is no longer reported as running')
  settle('handles')
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.deepEqual(discarded, ['handles'], 'the late result is handed back to be closed')
})

test('a step that settles in time is its result or its error, and ends', async () => {
  const discarded: unknown[] = []
  assert.equal(await bounded(Promise.resolve(7), 'instantiating', (late) => discarded.push(late), 40), 7)
  await assert.rejects(bounded(Promise.reject(new TypeError('bad wasm')), 'instantiating', undefined, 40), TypeError)
  await new Promise((resolve) => setTimeout(resolve, 60))
  assert.deepEqual(discarded, [], 'nothing discarded')
  assert.equal(stepsNow(), '')
})

test('steps in progress are listed in the order they began, each until it ends', () => {
  const download = beginStep('downloading and compiling duckdb-eh.wasm')
  const handles = beginStep('opening handles')
  assert.equal(stepsNow(), 'downloading and compiling duckdb-eh.wasm, opening handles')
  download()
  assert.equal(stepsNow(), 'opening handles')
  handles()
  handles()
  assert.equal(stepsNow(), '')
})
