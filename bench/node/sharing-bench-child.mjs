// Child of sharing-bench.mjs: opens the vault, says "open", waits for "go", writes `count` small
// awaited commits, says "done <ms>".
import { createInterface } from 'node:readline'
import { openVault } from '../../dist/node/node.js'

const [dir, name, count, id] = process.argv.slice(2)
const vault = await openVault(name, { path: dir, lockTimeoutMs: 60_000 })
const kv = vault.kv()
await kv.get('warm')
process.stdout.write('open\n')
const lines = createInterface({ input: process.stdin })
await new Promise((r) => lines.once('line', r))
const t = performance.now()
for (let i = 0; i < Number(count); i++) await kv.set(`p${id}-${i}`, { i, loss: 1 / (i + 1) })
process.stdout.write(`done ${performance.now() - t}\n`)
await vault.close()
lines.close()
