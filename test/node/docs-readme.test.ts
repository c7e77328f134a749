// The README's code blocks work as written. Every ```ts / ```js block runs on Node against the
// built package (dist/node, as `import … from 'labvault'` resolves it for a user), alone, in a fresh
// temporary folder (so `./vaults` is a temp path). Every ```ts block is also type-checked against the
// shipped declarations (dist/types) with the project's TypeScript. A block whose first line is a
// `// browser` comment cannot run on Node (a bundler's `?worker` import): it is only type-checked,
// as a Vite app sees labvault. A failure names the block.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { type CodeBlock, codeBlocks, root, runBlock, sandbox } from './docs-blocks.js'

/** Whether a block is marked as browser-only (first line `// browser…`). */
const browserOnly = (block: CodeBlock): boolean => /^\/\/ browser\b/.test(block.code)

/**
 * Type-checks blocks against the shipped declarations (dist/types) with the project's TypeScript, in
 * one compiler run: Node blocks as a Node ESM app sees labvault, browser blocks as a Vite app does.
 * Returns the compiler's complaints, each prefixed with its block's label.
 */
function typeCheckBlocks(blocks: CodeBlock[], env: 'node' | 'browser'): string[] {
  if (blocks.length === 0) return []
  const dir = sandbox()
  try {
    const files = blocks.map((block, i) => {
      writeFileSync(join(dir, `block${i}.mts`), 'export {}\n' + block.code)
      return `block${i}.mts`
    })
    const compilerOptions = env === 'node'
      ? { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: [join(root, 'node_modules/@types/node/index.d.ts')] }
      : { module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['browser'], lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: [join(root, 'node_modules/vite/client.d.ts')] }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', ...compilerOptions }, files }))
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
      return []
    } catch (err) {
      const out = (err as { stdout?: string }).stdout || String(err)
      // block<i>.mts(line,col): the block's own line is one less (the `export {}` added above).
      return out.trim().split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^block(\d+)\.mts\((\d+),(\d+)\)/, (_, i, line, col) => `${blocks[Number(i)]!.label}, its line ${Number(line) - 1}:${col}`))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const blocks = codeBlocks(readFileSync(join(root, 'README.md'), 'utf8'))

before(() => {
  // The Node build and the declarations the blocks run and type-check against (about two seconds).
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'node'], { cwd: root, stdio: 'pipe' })
})

// Blocks run side by side (each a child process in its own folder): the suite takes seconds, not a minute.
describe('README code blocks', { concurrency: 4 }, () => {
  test('the README has a code block per domain, and few browser-only ones', () => {
    const code = blocks.map((b) => b.code).join('\n')
    for (const call of ['.kv(', '.columns.', '.lists.', '.search.', '.lineage.', '.processes.', '.tables.', '.store', '.sql`', '.transaction(', '.watch(']) assert.ok(code.includes(call), `no README block uses ${call}`)
    assert.ok(blocks.filter(browserOnly).length <= 2, 'browser-only blocks: keep them few')
  })

  test('every ts block type-checks against the shipped declarations (Node blocks as on Node, browser ones as in a Vite app)', () => {
    const ts = blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript')
    assert.ok(ts.some(browserOnly) && ts.some((b) => !browserOnly(b)))
    assert.deepEqual([...typeCheckBlocks(ts.filter((b) => !browserOnly(b)), 'node'), ...typeCheckBlocks(ts.filter(browserOnly), 'browser')], [])
  })

  for (const block of blocks.filter((b) => !browserOnly(b))) {
    test(`${block.label} runs on Node`, async () => {
      await runBlock(block)
    })
  }
})

describe('the README check itself', () => {
  test('a block that throws, or that does not type-check, fails naming its line', async () => {
    const [bad] = codeBlocks('# T\n\n**Thing**\n\n```ts\nimport { openVault } from "labvault"\nawait openVault("x", { path: "./v", durabilty: "strict" } as never)\n```\n')
    assert.equal(bad!.label, 'README.md block at line 5 (Thing)')
    await assert.rejects(runBlock(bad!), /line 5 \(Thing\) failed on Node:[\s\S]*InvalidArgumentError/)
    const [badType] = codeBlocks('**Typed**\n```ts\n// browser\nimport { openVault } from "labvault"\nawait openVault(42)\n```\n')
    const complaints = typeCheckBlocks([badType!], 'browser')
    assert.equal(complaints.length, 1)
    assert.match(complaints[0]!, /^README\.md block at line 2 \(Typed\), its line 3:\d+: error TS2345/)
  })

  test('a block runs against the built package and its output is what it printed', async () => {
    const [ok] = codeBlocks('```js\nimport { openVault } from "labvault"\nconst v = await openVault("x", { path: "./v" })\nawait v.kv().set("k", 41)\nconsole.log((await v.kv().get("k")) + 1)\nawait v.close()\n```\n')
    assert.equal((await runBlock(ok!)).trim(), '42')
  })
})
