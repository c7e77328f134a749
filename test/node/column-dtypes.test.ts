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

  test('vec:f32:D keeps its layout (D little-endian f32s, nothing else), as old vaults hold it', () => {
    const d = parseDType('vec:f32:2')
    assert.equal(d.elemSize, 8)
    const expected = new Uint8Array(new Float32Array([1.5, -2]).buffer)
    assert.deepEqual(encodeOne(d, new Float32Array([1.5, -2])).bytes, expected)
    assert.deepEqual(encodeOne(d, [1.5, -2]).bytes, expected)
  })

  test('vec:T:d1:d2 stores d1·d2 values row-major; vec:T stores ndim, the u32 dimensions, then the values', () => {
    const m = parseDType('vec:u16:2:2')
    assert.equal(m.elemSize, 8)
    assert.deepEqual(Array.from(encodeOne(m, [[1, 2], [3, 0x0102]]).bytes), [1, 0, 2, 0, 3, 0, 2, 1])
    const s = encodeOne(parseDType('vec:i8'), [[1, -1, 2]])
    assert.deepEqual(Array.from(s.bytes), [2, 1, 0, 0, 0, 3, 0, 0, 0, 1, 0xff, 2])
    assert.deepEqual(Array.from(s.lens!), [12])
  })
})
