// The code blocks of the README and docs/*.md, and how the docs tests run them as a user would: on
// Node, against the built package (dist/node, as `import … from 'labvault'` resolves it), in a fresh
// temporary folder (so `./vaults` is a temp path). Shared by docs-readme.test.ts and
// docs-examples.test.ts.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

export const root = resolve(import.meta.dirname, '../..')
const run = promisify(execFile)

/** A fenced code block of a markdown text, with where it is and what it is under. */
export interface CodeBlock {
  lang: string
  code: string
  line: number
  label: string
}

/** The ```ts/```js blocks of a markdown text, each labelled by its page, its line and the text leading to it. */
export function codeBlocks(markdown: string, page = 'README.md'): CodeBlock[] {
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
    if (['ts', 'js', 'typescript', 'javascript'].includes(lang)) blocks.push({ lang, code: body.join('\n') + '\n', line: start + 1, label: `${page} block at line ${start + 1} (${context})` })
  }
  return blocks
}

/** A folder where `import 'labvault'` resolves to this checkout's built package, as for a user. */
export function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-readme-'))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules/labvault'), 'dir')
  return dir
}

const tsxLoader = import.meta.resolve('tsx')

/**
 * Runs a block as an ES module with tsx (type annotations stripped, not checked) in a sandbox;
 * `prepare` may first put files there (a workspace the block reads). Resolves with its stdout; a
 * failure names the block.
 */
export async function runBlock(block: CodeBlock, prepare?: (dir: string) => void | Promise<void>): Promise<string> {
  const dir = sandbox()
  try {
    await prepare?.(dir)
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
