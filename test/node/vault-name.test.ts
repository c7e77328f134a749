import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { validateVaultName } from '../../src/protocol/vault-name.js'
import { PLAIN_VAULT_NAME } from '../../src/protocol/plain-vault-name.js'

// A page checks a plain vault name (ASCII letters, digits, `_`, `-`) without loading the whole rule
// (src/index.ts, `checkVaultName`). The guarantee: every name the shortcut lets through is one the
// whole rule accepts, so the shortcut never lets a bad name reach the engine's folder names.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 1000)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const accepted = (name: unknown) => {
  try {
    validateVaultName(name)
    return true
  } catch {
    return false
  }
}

test('every name the plain-name shortcut passes, the whole vault-name rule accepts', () => {
  const plainChars = fc.constantFrom(...'abcXYZ019_-'.split(''))
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: plainChars, minLength: 0, maxLength: 140 }),
        fc.string({ unit: 'binary', maxLength: 140 }),
        fc.string({ unit: 'grapheme-ascii', maxLength: 140 }),
        fc.constantFrom('', '.', '..', 'a..b', 'a.', '.a', 'a ', 'a/b', 'a\\b', 'a:b', 'con', '__proto__', 'x'.repeat(128), 'x'.repeat(129), 'é', '\uD800', 'a\u0000', 'ǅ', '١٢'),
      ),
      (name) => {
        if (PLAIN_VAULT_NAME.test(name)) assert.ok(accepted(name), `the shortcut passed ${JSON.stringify(name)}, which the rule refuses`)
      },
    ),
    { numRuns: RUNS, seed: SEED },
  )
})

test('the shortcut passes plain names and leaves every other name to the whole rule', () => {
  for (const name of ['a', 'cold-start', 'run_01', 'x'.repeat(128), '__proto__']) assert.ok(PLAIN_VAULT_NAME.test(name), name)
  for (const name of ['', 'x'.repeat(129), 'é', 'a.b', 'a b', 'a/b', '١٢', 'a\n']) assert.ok(!PLAIN_VAULT_NAME.test(name), name)
})
