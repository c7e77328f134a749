// The error classes' contract: literal names, stable codes as own enumerable properties, instanceof
// along the hierarchy, the cross-copy brand, the tables by name and by code, and fromPlatformError.
// (errors.ts sets names and codes from one table rather than per class: docs/cold-start.md.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as labvault from '../../src/node.js'
import { errorClasses, errorClassesByCode } from '../../src/errors/errors.js'
import { deserializeError, serializeError } from '../../src/protocol/serialized-error.js'

const { ErrorCode, VaultError, fromPlatformError } = labvault
const names = Object.keys(ErrorCode) as (keyof typeof ErrorCode)[]

test('every class is exported, named by a literal, and carries its own code', () => {
  assert.equal(names.length, 12)
  for (const name of names) {
    const Class = (labvault as unknown as Record<string, typeof VaultError>)[name]
    assert.equal(Class, errorClasses[name], name)
    const err = new Class(`a ${name}`, { cause: 'why' })
    assert.equal(err.name, name)
    assert.equal(err.code, ErrorCode[name])
    assert.equal(err.message, `a ${name}`)
    assert.equal(err.cause, 'why')
    assert.ok(err instanceof Error && err instanceof VaultError && err instanceof Class)
    assert.ok(VaultError.isVaultError(err))
    // `code` is the error's own enumerable property (it shows in spreads, JSON and logs); `name` is inherited.
    assert.deepEqual(Object.keys(err), ['code'])
    assert.deepEqual(JSON.parse(JSON.stringify(err)), { code: ErrorCode[name] })
    assert.equal(Object.hasOwn(err, 'name'), false)
    assert.equal(String(err), `${name}: a ${name}`)
    assert.equal(errorClassesByCode[ErrorCode[name]], Class)
    for (const other of names) if (other !== name && other !== 'VaultError') assert.equal(err instanceof errorClasses[other], false, `${name} is not a ${other}`)
  }
  assert.deepEqual(Object.keys(errorClassesByCode).sort(), Object.values(ErrorCode).sort())
})

test('a subclass of a labvault error keeps its parent code and may set its own', () => {
  class Missing extends labvault.NotFoundError {}
  class Custom extends labvault.VaultError {
    override readonly code = 'CUSTOM' as never
  }
  const m = new Missing('m')
  assert.equal(m.code, 'NOT_FOUND')
  assert.equal(m.name, 'NotFoundError')
  assert.ok(m instanceof labvault.NotFoundError)
  assert.equal(new Custom('c').code, 'CUSTOM')
  // An error's code and name can be changed like any property (as with a class field).
  const e = new labvault.ConflictError('x')
  ;(e as { code: string }).code = 'OTHER'
  e.name = 'Renamed'
  assert.equal(e.code, 'OTHER')
  assert.equal(e.name, 'Renamed')
  assert.equal(new labvault.ConflictError('y').name, 'ConflictError')
})

test('an error rebuilt from its plain form is the same class with the same code', () => {
  for (const name of names) {
    const back = deserializeError(serializeError(new errorClasses[name]('m')))
    assert.ok(back instanceof errorClasses[name])
    assert.equal((back as InstanceType<typeof VaultError>).code, ErrorCode[name])
    assert.equal(back.name, name)
  }
})

test('fromPlatformError maps quota, busy and errno errors, and lets programming errors through', () => {
  const quota = fromPlatformError(Object.assign(new Error(''), { code: 'ENOSPC' }), 'writing')
  assert.ok(quota instanceof labvault.QuotaExceededError)
  assert.match(quota.message, /^writing: the storage quota/)
  assert.ok(fromPlatformError(Object.assign(new Error('busy'), { code: 'EBUSY' }), 'x') instanceof labvault.ConflictError)
  const io = fromPlatformError(Object.assign(new Error('disk'), { code: 'EIO' }), 'reading')
  assert.equal(io.constructor, VaultError)
  assert.equal(io.message, 'reading: disk')
  const typeError = new TypeError('bug')
  assert.equal(fromPlatformError(typeError, 'x'), typeError)
  const own = new labvault.NotFoundError('n')
  assert.equal(fromPlatformError(own, 'x'), own)
})
