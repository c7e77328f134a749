// A tables call given an option it does not take. Before, every tables call ignored what it did not
// know, where openVault refuses it: `tables.get(t, { instanceID })` read the latest instance instead
// of the one named, `tables.write(t, data, { verison: 'v2' })` wrote a `base` instance, and
// `tables.create(t, { descripton })` made a table without its description. (Found by probing as a
// careless user would.) Now each is InvalidArgumentError naming the option, and nothing changes.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-tables-options-')
let vault: Vault

before(async () => {
  vault = await openVault('options', { storage: 'fs', path: dir })
  await vault.tables.create('t')
  await vault.tables.write('t', { x: [1, 2] })
})
after(async () => {
  await vault.close()
})

/** Rejects with InvalidArgumentError whose message names `option`. */
async function refused(call: () => Promise<unknown> | unknown, option: string): Promise<void> {
  await assert.rejects(async () => call(), (err: Error) => {
    assert.ok(err instanceof InvalidArgumentError, `${err.name}: ${err.message}`)
    assert.match(err.message, new RegExp(`unknown option "${option}"`))
    return true
  }, `option "${option}" refused`)
}

test('a misspelt option is refused by every tables call, and the call changes nothing', async () => {
  const instances = async () => (await vault.tables.instances('t', { includeTemp: true })).map((i) => i.instanceId)
  const before = await instances()
  await refused(() => vault.tables.create('u', { descripton: 'typo' } as never), 'descripton')
  assert.deepEqual((await vault.tables.list()).map((t) => t.name), ['t'], 'no table made')
  await refused(() => vault.tables.write('t', { x: [3] }, { verison: 'v2' } as never), 'verison')
  await refused(() => vault.tables.createInstance('t', { externaledit: true } as never), 'externaledit')
  assert.deepEqual(await instances(), before, 'no instance written or made')
  await refused(() => vault.tables.get('t', { instanceID: before[0] } as never), 'instanceID')
  await refused(() => vault.tables.instances('t', { includetemp: true } as never), 'includetemp')
  await refused(() => vault.tables.execute('t', { forse: true } as never), 'forse')
  await refused(() => vault.tables.rename('t', 'u', { processID: 'x' } as never), 'processID')
  await refused(() => vault.tables.delete('t', { cascade: true } as never), 'cascade')
  await refused(() => vault.tables.deleteInstance('t', before[0]!, { force: true } as never), 'force')
  await refused(() => vault.tables.describe('t', 'text', { instance: before[0] } as never), 'instance')
  await refused(() => vault.tables.descriptions('t', { instance: before[0] } as never), 'instance')
  // artifacts() hands out its object at once (a stand-in until the tables client loads): the first call on it is refused.
  await refused(() => vault.tables.artifacts('t', { instance: before[0] } as never).list(), 'instance')
  await refused(() => vault.tables.builders.create('t', 'b', {}, { versions: 'v' } as never), 'versions')
  await refused(() => vault.tables.builders.list('t', { instance: 'x' } as never), 'instance')
  await refused(() => vault.tables.builders.get('t', 'b', { instance: 'x' } as never), 'instance')
  await refused(() => vault.tables.builders.delete('t', 'b', { versions: 'v' } as never), 'versions')
  await refused(() => vault.code.create('m', 'export const f = () => 1', { replaces: true } as never), 'replaces')
  assert.deepEqual(await vault.code.list(), [], 'no module stored')
  await refused(() => vault.code.delete('m', { force: true } as never), 'force')
  await refused(() => vault.tree({ artefacts: true } as never), 'artefacts')
  assert.deepEqual((await vault.tables.list()).map((t) => t.name), ['t'], 'the table is still there, not renamed or deleted')
  assert.deepEqual(await instances(), before, 'its instances unchanged')
})

test('options that are not an object are refused; the options each call documents still work', async () => {
  for (const bad of [null, 'v2', 3, ['version']]) {
    await assert.rejects(() => vault.tables.get('t', bad as never), InvalidArgumentError, `tables.get options ${JSON.stringify(bad)}`)
    await assert.rejects(() => vault.tables.write('t', { x: [1] }, bad as never), InvalidArgumentError, `tables.write options ${JSON.stringify(bad)}`)
  }
  const [first] = (await vault.tables.instances('t')).map((i) => i.instanceId)
  const { table, instanceId } = await vault.tables.get('t', { instanceId: first, activeOnly: false, successfulOnly: false, rows: 1 })
  assert.equal(instanceId, first)
  assert.equal(table.numRows, 1)
  assert.equal((await vault.tree({ code: false, builders: false, artifacts: true })).tables.length, 1)
})

test("artifacts() with a misspelt option, as the vault's first tables call (a stand-in then): its calls are refused the same way", async () => {
  const fresh = await openVault('options-fresh', { storage: 'fs', path: dir })
  try {
    await refused(() => fresh.tables.artifacts('t', { instance: 'x' } as never).list(), 'instance')
  } finally {
    await fresh.close()
  }
})
