// The code examples of the domain pages (docs/*.md) work as a new user who copies them finds them:
// every ```ts / ```js block runs on Node against the built package, in a fresh temporary folder,
// with the least setup it assumes (a `vault`, the variables an earlier block or the prose defines:
// `prelude`), and the values its comments state (`// 4`, `// → true`) are asserted (`checks`: a line
// of the block replaced by an assertion of what its comment says). A block that cannot run on Node
// (a browser page, a CDN import, a static host) is listed with the reason, and the test asserts the
// list is exactly the blocks the pages have: a new block must be classified, and a block that moved
// or changed fails naming itself. The README's blocks: docs-readme.test.ts.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { createStore } from '../support/nirs4all-workspace.js'
import { type CodeBlock, codeBlocks, root, runBlock } from './docs-blocks.js'

/** How one block runs on Node, or why it cannot. */
type Example =
  | {
      /** The block's first line (so an edited or moved block is noticed, not run with the wrong setup). */
      first: string
      /** Code put before the block: the variables it assumes. */
      prelude?: string
      /** Lines of the block replaced by assertions of what their comments say: [exact text, replacement]. */
      checks?: [string, string][]
      /** Code put after the block: assertions on what it did, then closing what it left open. */
      epilogue?: string
      /** Files the block reads, written into its folder first. */
      files?: (dir: string) => void
    }
  | { first: string; notOnNode: string }

/** Opens `vault` for a block that uses one without opening it (the page's earlier text opened it). */
const withVault = 'import { openVault as __openVault } from "labvault"\nimport assert from "node:assert/strict"\nconst vault = await __openVault("lab", { path: "./vaults" })\n'
const closeVault = '\nawait vault.close()\n'
/** The README's closing, for blocks that open their own vault. */
const withAssert = 'import assert from "node:assert/strict"\n'

/** Every ts/js block of each domain page, in page order. */
const examples: Record<string, Example[]> = {
  'columns.md': [
    {
      first: "import { openVault } from 'labvault'",
      prelude: withAssert,
      checks: [
        ['await loss.length()                                         // 4', 'assert.equal(await loss.length(), 4)'],
        ['await loss.get(-1)                                          // 0.58', 'assert.equal(await loss.get(-1), 0.58)'],
        ['await loss.slice(1, 3)                                      // Float64Array', 'assert.deepEqual(await loss.slice(1, 3), new Float64Array([0.71, 0.64])) //'],
        ["await vault.columns.list()                                  // [{ name, dtype, length }]", "assert.deepEqual(await vault.columns.list(), [{ name: 'loss', dtype: 'f64', length: 4 }, { name: 'tokens', dtype: 'i64', length: 0 }]) //"],
        ["await vault.columns.delete('loss')                          // → true / false", "assert.equal(await vault.columns.delete('loss'), true); assert.equal(await vault.columns.delete('loss'), false)"],
        [';(await img.info()).shape                                   // [2, 3]', 'assert.deepEqual((await img.info()).shape, [2, 3])'],
        ['(await t.get(0)).shape   // [3, 2]', 'assert.deepEqual((await t.get(0)).shape, [3, 2])'],
      ],
      epilogue: "assert.deepEqual(await img.get(0), new Uint8Array([1, 2, 3, 4, 5, 6]))\nassert.deepEqual((await vault.columns.list()).find((c) => c.name === 'img'), { name: 'img', dtype: 'vec:u8:2:3', length: 1, shape: [2, 3] })" + closeVault,
    },
    {
      // 10M elements in the prose; the element it sets only needs to exist.
      first: "const loss = await vault.columns.get<'f64'>('loss')",
      prelude: withVault + "await (await vault.columns.create('loss', 'f64')).extend(new Float64Array(5_000_001))\n",
      epilogue: 'assert.equal(await loss.get(5_000_000), 0.25)' + closeVault,
    },
    {
      first: 'await loss.withCache({ flushThreshold: 8 << 20, capBytes: 64 << 20 }, async () => {',
      prelude: withVault + "const loss = await vault.columns.create('loss', 'f64')\nconst training = [{ loss: 0.9 }, { loss: 0.5 }]\n",
      epilogue: 'assert.deepEqual(await loss.slice(0), new Float64Array([0.9, 0.5]))' + closeVault,
    },
    {
      first: 'await vault.transaction(async (tx) => {',
      prelude: withVault + "await vault.columns.create('steps', 'i64')\n",
      epilogue: "assert.deepEqual(await (await vault.columns.get('steps')).slice(0), new BigInt64Array([42n]))\nassert.equal(await vault.kv().get('last-step'), 42)" + closeVault,
    },
    { first: "import * as Plot from '@observablehq/plot'", notOnNode: 'a page: draws with Observable Plot into document.body' },
  ],
  'items.md': [
    {
      first: "import { openVault } from 'labvault'",
      // The prose's chunker source, paragraphs and embedding model (any function to Float32Array[384]).
      prelude: withAssert + "const chunkSource = 'export const chunk = (text) => text.split(\"\\\\n\\\\n\")'\nconst paragraphs = ['The creature speaks.', 'Geneva, in spring.', 'Ice, and the sea.']\n" +
        'const model = { embed: async (text: string) => { const v = new Float32Array(384); for (const ch of text) v[ch.charCodeAt(0) % 384]! += 1; return v } }\n',
      checks: [['console.log(source, made.session?.code)', "assert.equal(source, 'The creature speaks.'); assert.equal(made.session?.name, 'embed.ts'); assert.equal(made.session?.user, 'ana'); assert.match(made.session?.code ?? '', /all-MiniLM/)"]],
      epilogue: closeVault,
    },
    {
      first: "await vault.lists.create('docs', { type: 'document' })",
      prelude: withVault,
      checks: [["await vault.lists.delete('docs')   // → true", "assert.equal(await vault.lists.delete('docs'), true) //"]],
      epilogue: "await assert.rejects(vault.lists.create('docs', { type: 'document' }), { name: 'AlreadyExistsError' })" + closeVault,
    },
    {
      first: "const s = await vault.session('train.ts', { code: scriptText })",
      prelude: withVault + "const scriptText = 'train()'\nconst docs = await vault.lists.create('docs', { type: 'document' })\n",
      checks: [
        ["await nb.cell('x = load()')    // → 1", "assert.equal(await nb.cell('x = load()'), 1) //"],
        ['await s.info()                 // { id, name, user, kind, status, createdAt, cells: [code, …] }', "assert.deepEqual(Object.keys(await s.info()).sort(), ['cells', 'createdAt', 'id', 'kind', 'name', 'status', 'user']); assert.deepEqual((await s.info()).cells, ['train()'])"],
        ["await step.done()              // status 'completed'", "await step.done(); assert.equal((await step.info()).status, 'completed') //"],
      ],
      epilogue: closeVault,
    },
    {
      first: "await vault.search.text('query words', { lists, limit: 10 })",
      // The prose's variables: the lists to search, a query vector, the filters of search.items, its hits.
      prelude: withVault + "import { hitsToArrow } from 'labvault'\n" +
        "const docs = await vault.lists.create('docs', { type: 'document' })\nawait docs.appendMany(['query words here', 'a frankenstein query'], { description: 'frankenstein' })\n" +
        "const emb = await vault.lists.create('emb', { type: 'embedding', dim: 3 })\nawait emb.append(new Float32Array([1, 0, 0]))\n" +
        "const lists = ['docs', 'emb'], vector = new Float32Array([1, 0, 0]), text = 'query', similar = undefined, description = undefined, code = undefined, name = undefined, mediaType = undefined, type = undefined, k = 5\n" +
        "const hits = await vault.search.text('query')\n",
      checks: [['hitsToArrow(hits)   // an Arrow table: list, index, score, kind', "assert.deepEqual(hitsToArrow(hits).schema.fields.map((f) => f.name), ['list', 'index', 'score', 'kind'])"]],
      epilogue: closeVault,
    },
  ],
  'tables.md': [
    {
      first: "await vault.code.create('papers', `",
      prelude: withVault + "const bytes = new TextEncoder().encode('%PDF-1.4')\n",
      epilogue: "assert.deepEqual(table.toArray().map((row) => row.toJSON()), [{ paper: 'a', file: 'a.pdf' }])\nassert.match(instanceId, /^base_\\d+_/)" + closeVault,
    },
    {
      first: "await vault.code.create('nlp', 'export const ids = (a) => ({ id: a.id })\\nexport const words = (a) => String(a.text).split(\" \").length')",
      prelude: withVault,
      epilogue: 'assert.deepEqual(table.toArray().map((row) => row.toJSON()), [{ id: 1, n: 2 }, { id: 2, n: 3 }])' + closeVault,
    },
  ],
  'tables-builders.md': [
    {
      first: "await vault.code.create('papers', `",
      // Builders are declared, not run (ask() would fetch a remote model): the tables they read and fill.
      prelude: withVault + "await vault.tables.create('stories')\nawait vault.tables.write('stories', { name: ['a'], text: ['t'] })\nawait vault.tables.create('questions')\nawait vault.tables.createInstance('questions')\n",
      epilogue: "assert.deepEqual(await vault.tables.builders.list('questions'), ['q1', 'questions_index'])" + closeVault,
    },
  ],
  'store.md': [
    {
      first: 'const s = vault.store',
      prelude: withVault + "const modelBytes = new Uint8Array([1, 2, 3])\nconst folds = [0, 1, 2].map((i) => ({ i, rmse: 0.21 + i / 100, yTrue: [1, 2], yPred: [1.1, 1.9] }))\n",
      epilogue: "assert.equal(best.numRows, 3)\nassert.equal(best.get(0)!.valScore, 0.21)\nassert.deepEqual(arrays.yTrue, new Float64Array([1, 2]))" + closeVault,
    },
    {
      first: "import { importNirs4allWorkspace } from 'labvault'                        // Node entry only",
      // A chain of a scaler and a ridge model whose artifacts are JSON, as the operators read them; an empty nirs4all workspace.
      prelude: withVault + 'const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))\n' +
        "const runId = await vault.store.beginRun('r', {}, [{ name: 'wheat' }])\nconst pid = await vault.store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })\n" +
        "const scaler = await vault.store.saveArtifact(enc({ mean: [1, 2], scale: [2, 4] }), { operatorClass: 'StandardScaler', artifactType: 'transformer', format: 'json' })\n" +
        "const ridge = await vault.store.saveArtifact(enc({ coef: [1, 1], intercept: 0.5 }), { operatorClass: 'Ridge', artifactType: 'model', format: 'json' })\n" +
        "const chainId = await vault.store.saveChain(pid, { steps: [{ stepIdx: 0, operatorClass: 'StandardScaler', artifactId: scaler }, { stepIdx: 1, operatorClass: 'Ridge' }], modelStepIdx: 1, modelClass: 'Ridge', sharedArtifacts: { 0: [scaler] }, foldArtifacts: { fold_final: ridge } })\n" +
        'const X = [[3, 6]]\n',
      files: (dir) => createStore(join(dir, 'workspace')).close(),
      epilogue: "assert.deepEqual(y, new Float64Array([2.5]))\nassert.match(yaml, /^run_id: /)\nassert.ok(n4a.length > 0 && parquet.length > 0)\nassert.equal(typeof report, 'object')" + closeVault,
    },
  ],
  'sql.md': [
    {
      first: "const t = await vault.sql('SELECT model_class, max(val_score) AS best FROM items.predictions GROUP BY 1', { timeoutMs: 10_000 })",
      // items.predictions: a record list the user named `predictions`. DuckDB is started first, so
      // that the block's timeout measures its query, not a loaded machine's start.
      prelude: withVault + "await (await vault.lists.create('predictions', { type: 'record', fields: ['dataset', 'model_class', 'val_score'] })).appendMany([{ dataset: 'wheat', model_class: 'rf', val_score: 0.93 }, { dataset: 'wheat', model_class: 'pls', val_score: 0.2 }])\n" +
        "await vault.kv().set('k1', 1)\nconst prefix = 'k'\nawait vault.sql('SELECT 1')\n",
      checks: [["t.toArray()                                   // [{ model_class: 'rf', best: 0.93 }, …]", "assert.deepEqual(t.toArray().map((row) => row.toJSON()).sort((a, b) => b.best - a.best)[0], { model_class: 'rf', best: 0.93 }) //"]],
      epilogue: closeVault,
    },
    {
      first: 'const best = await vault.sql(`',
      // features.parquet: a file beside the script (Node's fetch takes no relative URL, so the file is read).
      prelude: withVault + "import { readFileSync, writeFileSync } from 'node:fs'\nconst fetch = async (file: string) => new Response(readFileSync(file))\nconst ns = 'default'\n" +
        "await (await vault.lists.create('predictions', { type: 'record', fields: ['dataset', 'model_class', 'val_score'] })).appendMany([{ dataset: 'wheat', model_class: 'rf', val_score: 0.93 }, { dataset: 'wheat', model_class: 'pls', val_score: 0.2 }])\n" +
        "writeFileSync('features.parquet', await vault.exportParquet('SELECT 1 AS a, 2.5 AS b'))\n",
      epilogue: "assert.equal(best.numRows, 2)\nassert.ok(file.length > 0)\nassert.deepEqual((await vault.tables.get('features')).table.toArray().map((row) => row.toJSON()), [{ a: 1, b: 2.5 }])" + closeVault,
    },
    { first: '// In an Observable notebook', notOnNode: 'an Observable notebook cell importing the browser build from a CDN' },
  ],
  'processes.md': [
    {
      first: "const p = await vault.processes.start('train-run')   // { id, checkpoint(), done(), fail(err), begin/note/end }",
      // The signals are said "from anywhere", each to a process in the state it needs (one pending
      // request at a time): each such line runs against a fresh process `id` of its own.
      prelude: withVault + 'const batches = [{ index: 0 }, { index: 1 }]\nconst work = async (_batch: unknown) => {}\n' +
        'async function __process(paused: boolean): Promise<string> {\n  const q = await vault.processes.start("other")\n  if (!paused) return q.id\n  await vault.processes.pause(q.id)\n  void q.checkpoint().catch(() => {})\n' +
        '  while ((await vault.processes.get(q.id)).status !== "paused") await new Promise((r) => setTimeout(r, 10))\n  return q.id\n}\n',
      checks: [
        ['await vault.processes.pause(id) ', '{ const id = await __process(false); await vault.processes.pause(id) } //'],
        ['await vault.processes.resume(id) ', '{ const id = await __process(true); await vault.processes.resume(id); const q = await vault.processes.start("x"); await assert.rejects(vault.processes.resume(q.id), { name: "InvalidArgumentError" }) } //'],
        ['await vault.processes.stop(id) ', '{ const id = await __process(false); await vault.processes.stop(id) } //'],
        ['await vault.processes.stop(id, { force: true, materialize: false })', '{ const id = await __process(false); await vault.processes.stop(id, { force: true, materialize: false }); assert.equal((await vault.processes.get(id)).status, "stopped") } //'],
        ['await vault.processes.get(id); await vault.processes.list()', 'await vault.processes.get(p.id); assert.ok((await vault.processes.list()).length >= 5)'],
        ['await vault.processes.completed(id) ', 'assert.equal(await vault.processes.completed(p.id), true) //'],
      ],
      epilogue: closeVault,
    },
    {
      first: "const op = await p.begin('rewrite-config', { keys: [{ ns: 'settings', key: 'lr' }], state: { step: 0 } })",
      prelude: withVault + "const p = await vault.processes.start('rewrite')\n",
      epilogue: "assert.equal(await vault.kv('settings').get('lr'), 3e-4)\nassert.deepEqual((await vault.processes.get(p.id)).inFlight, [])" + closeVault,
    },
  ],
  'sharing.md': [
    {
      first: '// worker.mjs — run it four times at once: node worker.mjs & node worker.mjs & …',
      prelude: withAssert,
      epilogue: "const __v = await openVault('lab', { path: './vaults' })\nassert.equal(await __v.kv().get('n'), 500)\nawait __v.close()\n",
    },
    {
      first: "const stop = await vault.watch({ domains: ['kv'], kvNamespaces: ['settings'], externalOnly: true }, (change) => {",
      prelude: withVault,
      epilogue: closeVault,
    },
    { first: '// page A and page B, same origin, same code:', notOnNode: 'two browser tabs (location.hash, info().tabRole)' },
  ],
  'opening.md': [
    { first: "import { openVault } from 'labvault'", prelude: withAssert, epilogue: "const __v = await openVault('lab')\nassert.equal(await __v.kv().get('runs'), 1)\nassert.deepEqual(await __v.kv().get('weights'), new Float32Array([0.1, 0.2]))\nawait __v.close()\n" },
    { first: "import { openVault } from 'labvault'", notOnNode: "a page built by Vite: imports 'labvault/worker?worker'" },
    { first: "import { configure, openVault } from 'labvault'", notOnNode: 'a page built by Vite: VaultWorker and wasmUrl are its ?worker and ?url imports' },
    {
      first: "import { openVault } from 'labvault'",
      prelude: withAssert,
      checks: [["console.log(await vault.kv().getMany(['a', 'b']))", "assert.deepEqual(await vault.kv().getMany(['a', 'b']), new Map<string, unknown>([['a', 1], ['b', { loss: 0.1 }]]))"]],
    },
    {
      first: 'const vault = await openVault(name, {',
      prelude: "import { openVault, listVaults, deleteVault } from 'labvault'\nimport assert from 'node:assert/strict'\nconst name = 'lab', storage = 'fs' as const, path = './vaults'\n",
      checks: [["await vault.info()   // { name, author, description, createdAt, storage, sizeBytes, formatVersion, durability, readOnly, recovery, storageEstimate? }", "assert.deepEqual(Object.keys(await vault.info()).sort(), ['author', 'createdAt', 'description', 'durability', 'formatVersion', 'name', 'readOnly', 'recovery', 'sizeBytes', 'storage']) //"]],
      epilogue: 'assert.deepEqual(await listVaults({ storage, path }), [])\n',
    },
  ],
  'export-import.md': [
    {
      first: "import { exportVault, importVault } from 'labvault'          // the same on Node ('labvault' node entry)",
      // The prose's options, and `file`: an archive as a File would give it.
      prelude: "import { openVault as __openVault } from 'labvault'\nimport assert from 'node:assert/strict'\nconst __lab = await __openVault('lab', { path: './vaults' })\nawait __lab.kv().set('best', 0.93)\nawait __lab.close()\n" +
        "const storage = 'fs' as const, path = './vaults', onProgress = (_p: unknown) => {}, signal = new AbortController().signal\n",
      checks: [["await importVault('lab', file, { storage, path, replace: true })", "const file = new Blob([bytes]); await importVault('lab', file, { storage, path, replace: true })"]],
      epilogue: "for (const name of ['lab', 'lab-copy', 'lab-copy2']) { const v = await __openVault(name, { path: './vaults', create: false }); assert.equal(await v.kv().get('best'), 0.93, name); await v.close() }\n",
    },
  ],
  'http-storage.md': [
    { first: "import { openVault } from 'labvault'", notOnNode: 'a page: reads a vault a static host serves at a URL relative to the page' },
    { first: "openVault(url, { storage: 'http', http: { timeoutMs: 30_000, cacheBytes: 64 * 1024 * 1024 } })", notOnNode: 'the options of an HTTP vault: needs a static host at url (test/node/http-storage.test.ts serves one)' },
  ],
  'notebooks.md': [
    { first: "const { openVault } = await import('https://cdn.jsdelivr.net/npm/labvault/dist/browser/labvault.js')", notOnNode: 'a notebook cell importing the browser build from a CDN' },
    { first: '// browser: configure once, in the first cell', notOnNode: 'a notebook cell importing the browser build from a CDN' },
    { first: "const { openVault } = await import('https://cdn.jsdelivr.net/npm/labvault/dist/browser/labvault.js')", notOnNode: 'a notebook cell importing the browser build from a CDN; draws with Plot' },
  ],
}

/** A block with its setup and checks in place: throws when a check's line is not in the block. */
function withSetup(block: CodeBlock, example: Extract<Example, { prelude?: string }>): CodeBlock {
  let code = block.code
  for (const [line, replacement] of example.checks ?? []) {
    assert.ok(code.includes(line), `${block.label}: the line to check is gone (edit docs-examples.test.ts): ${line}`)
    // What the line's comment goes on to say stays a comment.
    code = code.replace(line, `${replacement} //`)
  }
  return { ...block, code: (example.prelude ?? '') + code + (example.epilogue ?? '') }
}

const pages = Object.keys(examples).map((page) => ({ page, blocks: codeBlocks(readFileSync(join(root, 'docs', page), 'utf8'), `docs/${page}`) }))

before(() => {
  // The Node build the blocks run against, as `import 'labvault'` finds it (about two seconds).
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'node'], { cwd: root, stdio: 'pipe' })
})

describe('docs code examples', { concurrency: 3 }, () => {
  test('every block of the domain pages is listed: run on Node, or why it cannot', () => {
    for (const { page, blocks } of pages) {
      const firstLines = blocks.map((b) => b.code.split('\n')[0]!)
      assert.deepEqual(firstLines.map((line, i) => line.startsWith(examples[page]![i]?.first ?? '\0') ? examples[page]![i]!.first : line), examples[page]!.map((e) => e.first), `docs/${page}: its blocks changed; classify them in docs-examples.test.ts`)
    }
    // The pages a user copies from all have examples here; few of them are browser-only.
    const notOnNode = Object.values(examples).flat().filter((e) => 'notOnNode' in e)
    assert.equal(notOnNode.length, 10)
  })

  for (const { page, blocks } of pages) {
    blocks.forEach((block, i) => {
      const example = examples[page]![i]
      if (!example || 'notOnNode' in example) return
      test(`${block.label} runs on Node and does what its comments say`, async () => {
        await runBlock(withSetup(block, example), example.files)
      })
    })
  }
})
