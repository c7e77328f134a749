import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { encodeOne, parseDType } from '../../src/domains/columns/shared/dtypes.js'

// The stored layout of element bytes (docs/format.md, "Columns"): what old and new vaults hold on
// disk, checked byte for byte. Behaviour through the public API is in the conformance suite.

describe('column dtypes: stored bytes', () => {
  test('str:utf16be is big-endian UTF-16, str:N:utf16be zero-padded', () => {
    assert.deepEqual(Array.from(encodeOne(parseDType('str:utf16be'), 'A€').bytes), [0x00, 0x41, 0x20, 0xac])
    assert.deepEqual(Array.from(encodeOne(parseDType('str:6:utf16be'), 'A').bytes), [0x00, 0x41, 0, 0, 0, 0])
    assert.equal(parseDType('str:8').name, 'str:8:utf8')
    assert.equal(parseDType('str:8').elemSize, 8)
  })
})
