// The README's code blocks work as written. Every ```ts / ```js block runs on Node against the
// built package (dist/node, as `import … from 'labvault'` resolves it for a user), alone, in a fresh
// temporary folder (so `./vaults` is a temp path). A block whose first line is a `// browser`
// comment cannot run on Node (a bundler's `?worker` import): it is type-checked instead against the
// shipped declarations (dist/types) with the project's TypeScript. A failure names the block.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { before, describe, test } from 'node:test'
import { promisify } from 'node:util'

const root = resolve(import.meta.dirname, '../..')
const run = promisify(execFile)

/** A fenced code block of a markdown text, with where it is and what it is under. */
export interface CodeBlock {
  lang: string
  code: string
  line: number
  label: string
}

/** The ```ts/```js blocks of a markdown text, each labelled by its line and the text leading to it. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n')
  const blocks: CodeBlock[] = []
  let context = ''
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!)
    if (!open) {
      const text = lines[i]!.trim()
      if (/^#+ /.test(text)) context = text.replace(/^#+ /, '')
      else if (text.startsWith('**')) context = text.slice(2, text.indexOf('**', 2))
      continue
    }
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!)
    const lang = open[1]!
    if (['ts', 'js', 'typescript', 'javascript'].includes(lang)) blocks.push({ lang, code: body.join('\n') + '\n', line: start + 1, label: `README.md block at line ${start + 1} (${context})` })
  }
  return blocks
}

/** Whether a block is marked as browser-only (first line `// browser…`). */
const browserOnly = (block: CodeBlock): boolean => /^\/\/ browser\b/.test(block.code)

/** A folder where `import 'labvault'` resolves to this checkout's built package, as for a user. */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-readme-'))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules/labvault'), 'dir')
  return dir
}

const tsxLoader = import.meta.resolve('tsx')

/** Runs a block as an ES module with tsx (type annotations stripped, not checked) in a sandbox. */
async function runBlock(block: CodeBlock): Promise<string> {
  const dir = sandbox()
  try {
    writeFileSync(join(dir, 'block.mts'), block.code)
    try {
      const { stdout } = await run(process.execPath, ['--import', tsxLoader, 'block.mts'], { cwd: dir, timeout: 120_000, maxBuffer: 16 << 20 })
      return stdout
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string }
      throw new Error(`${block.label} failed on Node:\n${e.stderr || e.message}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Type-checks a browser block against dist/types, the way a Vite app sees labvault. */
function typeCheckBlock(block: CodeBlock): void {
  const dir = sandbox()
  try {
    writeFileSync(join(dir, 'block.ts'), 'export {}\n' + block.code)
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler',
        customConditions: ['browser'], lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: [join(root, 'node_modules/vite/client.d.ts')],
      },
      files: ['block.ts'],
    }))
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
    } catch (err) {
      const e = err as { stdout?: string; message: string }
      throw new Error(`${block.label} does not type-check:\n${e.stdout || e.message}`)
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

  for (const block of blocks) {
    if (browserOnly(block)) test(`${block.label} type-checks (browser only)`, () => typeCheckBlock(block))
    else test(`${block.label} runs on Node`, async () => {
      await runBlock(block)
    })
  }
})

describe('the README check itself', () => {
  test('a block that throws, or that does not type-check, fails naming its line', async () => {
    const [bad] = codeBlocks('# T\n\n**Thing**\n\n```ts\nimport { openVault } from "labvault"\nawait openVault("x", { path: "./v", durabilty: "strict" } as never)\n```\n')
    assert.equal(bad!.label, 'README.md block at line 5 (Thing)')
    await assert.rejects(runBlock(bad!), /line 5 \(Thing\) failed on Node:[\s\S]*InvalidArgumentError/)
    const [badType] = codeBlocks('```ts\n// browser\nimport { openVault } from "labvault"\nawait openVault(42)\n```\n')
    assert.throws(() => typeCheckBlock(badType!), /does not type-check:[\s\S]*TS2345/)
  })

  test('a block runs against the built package and its output is what it printed', async () => {
    const [ok] = codeBlocks('```js\nimport { openVault } from "labvault"\nconst v = await openVault("x", { path: "./v" })\nawait v.kv().set("k", 41)\nconsole.log((await v.kv().get("k")) + 1)\nawait v.close()\n```\n')
    assert.equal((await runBlock(ok!)).trim(), '42')
  })
})
