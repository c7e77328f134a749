// Node quickstart: run with `npm run build && node examples/node-quickstart.mjs`.
// The engine runs in this process; the vault lives in ./vaults/quickstart.
import { openVault, NotFoundError } from 'labvault'

const vault = await openVault('quickstart', { path: './vaults', author: 'you' })
const kv = vault.kv()

// Values keep their types: typed arrays, Dates, Maps, Sets, bigints, nested objects.
await kv.set('config', { lr: 3e-4, layers: [64, 64], started: new Date() })
await kv.set('weights', new Float32Array([0.1, 0.2, 0.3]))
await kv.setMany(Array.from({ length: 1000 }, (_, i) => [`metric:${i}`, { step: i, loss: 1 / (i + 1) }]))

console.log('config  :', await kv.get('config'))
console.log('weights :', await kv.get('weights'))
console.log('metrics :', (await kv.keys({ prefix: 'metric:' })).length)

// An atomic read-modify-write.
await vault.transaction(async (tx) => {
  const runs = (await tx.kv().get('runs')) ?? 0
  await tx.kv().set('runs', runs + 1)
})
console.log('runs    :', await kv.get('runs'))

try {
  await kv.getOrThrow('missing')
} catch (err) {
  console.log('typed error:', err instanceof NotFoundError, err.code)
}

console.log(await vault.info())
await vault.close()
