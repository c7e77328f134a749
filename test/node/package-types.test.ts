// What the package ships for TypeScript users: the declarations the build writes (dist/types) and the
// public names. The test runs the declaration step of the build itself (`node scripts/build.mjs node`,
// about a second), so it never judges a stale dist/.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as browserApi from '../../src/index.js'
import * as nodeApi from '../../src/node.js'

const root = resolve(import.meta.dirname, '../..')
const typesDir = join(root, 'dist/types')

/** Every .d.ts file under `dir`, as paths relative to it. */
function declarations(dir: string, prefix = ''): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) out.push(...declarations(join(dir, entry.name), rel))
    else if (entry.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

/** Every `types` path in package.json: the top-level one and those of each export condition. */
function typesEntries(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { types?: string; exports: Record<string, unknown> }
  const out = pkg.types ? [pkg.types] : []
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (key === 'types' && typeof value === 'string') out.push(value)
      else walk(value)
    }
  }
  walk(pkg.exports)
  return out
}

describe('public names', () => {
  test('the file list class is FileItemList: the DOM FileList is not shadowed', () => {
    for (const api of [browserApi, nodeApi] as Record<string, unknown>[]) {
      assert.equal(typeof api.FileItemList, 'function')
      assert.equal('FileList' in api, false)
    }
  })
})

describe('shipped declarations', () => {
  before(() => {
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'node'], { cwd: root, stdio: 'pipe' })
  })

  test('no @internal member ships (_call, _finished, _close, ...)', () => {
    const leaks: string[] = []
    for (const file of declarations(typesDir)) {
      const text = readFileSync(join(typesDir, file), 'utf8')
      for (const pattern of [/@internal/, /\b_call\b/, /\b_finished\b/, /\b_close\b/]) {
        if (pattern.test(text)) leaks.push(`${file}: ${pattern.source}`)
      }
    }
    assert.deepEqual(leaks, [])
  })

  test('FileList is not declared; FileItemList is', () => {
    const shared = readFileSync(join(typesDir, 'shared-exports.d.ts'), 'utf8')
    assert.match(shared, /\bFileItemList\b/)
    assert.doesNotMatch(shared, /\bFileList\b/)
  })

  test("every package.json `types` entry (the './worker' one included) names a file the build wrote", () => {
    const entries = typesEntries()
    assert.ok(entries.includes('./dist/types/worker.d.ts'), `the ./worker export's types: ${JSON.stringify(entries)}`)
    for (const entry of entries) assert.ok(existsSync(join(root, entry)), `${entry} does not exist after the build`)
  })

  describe('the declarations type-check on their own (stripping left no dangling name)', () => {
    let dir = ''
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'labvault-types-'))
    })
    after(() => rmSync(dir, { recursive: true, force: true }))

    test('every dist/types file, with skipLibCheck off', () => {
      // A consumer that uses the public names, compiled with every shipped declaration in the program
      // (internal ones too: a stripped type still named by an engine file would fail here).
      writeFileSync(
        join(dir, 'consumer.ts'),
        [
          `import { openVault, FileItemList, type Vault } from ${JSON.stringify(join(typesDir, 'index.js'))}`,
          `import * as node from ${JSON.stringify(join(typesDir, 'node.js'))}`,
          `import type {} from ${JSON.stringify(join(typesDir, 'worker.js'))}`,
          `export const open: (name: string) => Promise<Vault> = openVault`,
          `export const list: typeof FileItemList = node.FileItemList`,
          `// The DOM's FileList is still the DOM's.`,
          `export const files = (input: HTMLInputElement): FileList | null => input.files`,
          `// A Vault is AsyncDisposable: \`await using\` type-checks against the shipped class.`,
          `export async function scoped(): Promise<void> {`,
          `  await using vault = await openVault('x')`,
          `  await vault.info()`,
          `}`,
        ].join('\n'),
      )
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2022',
            module: 'ESNext',
            moduleResolution: 'Bundler',
            lib: ['ES2023', 'DOM', 'DOM.Iterable'],
            skipLibCheck: false,
            types: ['node'],
            typeRoots: [join(root, 'node_modules/@types')],
          },
          files: ['consumer.ts'],
          include: [join(typesDir, '**/*.d.ts')],
        }),
      )
      try {
        execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: dir, stdio: 'pipe' })
      } catch (err) {
        const e = err as { stdout?: Buffer; stderr?: Buffer }
        assert.fail(`the shipped declarations do not type-check:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`)
      }
    })
  })
})
