// Makes the demo's sample vault: a small tracker vault (the dataset, its features table, a sweep of
// four runs with their predictions, models, lineage and notes) written with the fs storage into
// <out>/sample, for the page to open read-only over HTTP from the site itself. Run by
// scripts/build.mjs after the demo is built: node --import tsx demo/scripts/make-sample-vault.ts <out>
import { readFileSync, rmSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { openVault } from '../../src/node.js'
import { ensureSetup } from '../src/setup.js'
import { loadFeatures, runSweep } from '../src/sweep.js'

const out = resolve(process.argv[2] ?? 'demo/dist/vaults')
const csv = readFileSync(resolve(import.meta.dirname, '../public/data/cells.csv'), 'utf8')
rmSync(resolve(out, 'sample'), { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const vault = await openVault('sample', { storage: 'fs', path: out, author: 'demo build', description: 'the demo tracker after one sweep' })
await ensureSetup(vault, csv, 'data/cells.csv')
const data = await loadFeatures(vault)
await runSweep(vault, { name: 'sample sweep', models: ['logreg', 'knn'], learningRates: [0.05, 0.5], l2: [0.01], epochs: 40, ks: [1, 9], paceMs: 0 }, data)
// A checkpoint folds the log into the image: fewer, larger files for a static host to serve.
await vault.optimize()
await vault.close()
console.log(`demo: sample vault written to ${resolve(out, 'sample')}`)
