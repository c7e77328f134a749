// The docs can be navigated: every relative link of README.md and docs/*.md leads to a file of the
// repository, and every #anchor to a heading of its page (GitHub's heading ids).
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'

const root = resolve(import.meta.dirname, '../..')

/** GitHub's id for a heading: lowercased, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>()
  const seen = new Map<string, number>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced
    const h = !fenced && /^#{1,6} (.*)$/.exec(line)
    if (!h) continue
    const base = h[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    ids.add(n === 0 ? base : `${base}-${n}`)
  }
  return ids
}

/** The [text](target) links of a markdown text outside code, with their line numbers. */
export function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = []
  let fenced = false
  markdown.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced
    if (fenced) return
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1]!, line: i + 1 })
  })
  return out
}

/** Broken relative links of one markdown file, as `file:line → target (why)`. */
function brokenLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const broken: string[] = []
  for (const { target, line } of links(text)) {
    if (/^[a-z]+:/i.test(target)) continue // http(s), mailto: checked by nobody here
    const [path, anchor] = target.split('#') as [string, string | undefined]
    const dest = path === '' ? file : resolve(dirname(file), path)
    const where = `${relative(root, file)}:${line} → ${target}`
    if (!existsSync(dest)) broken.push(`${where} (no such file)`)
    else if (anchor !== undefined && dest.endsWith('.md') && !headingIds(readFileSync(dest, 'utf8')).has(anchor)) broken.push(`${where} (no such heading)`)
  }
  return broken
}

test('every relative link and anchor of README.md and docs/*.md resolves', () => {
  const files = [join(root, 'README.md'), ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f))]
  const all = files.flatMap((f) => links(readFileSync(f, 'utf8')))
  assert.ok(all.length > 40, `only ${all.length} links found: the extraction is broken`)
  assert.deepEqual(files.flatMap(brokenLinks), [])
})

test('the README links every docs page, and docs/README.md indexes every page of docs/', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const index = readFileSync(join(root, 'docs/README.md'), 'utf8')
  for (const page of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    assert.ok(index.includes(`](${page})`), `docs/README.md does not link ${page}`)
  }
  for (const page of ['kv', 'columns', 'items', 'processes', 'tables', 'store', 'sql', 'sharing', 'durability', 'opening', 'notebooks', 'README']) {
    assert.ok(readme.includes(`](docs/${page}.md)`), `README.md does not link docs/${page}.md`)
  }
})

test('the link check catches a missing file and a missing heading', () => {
  assert.deepEqual([...headingIds('# A b\n## `vault.transaction(fn)` and its cost\n## A b\n```\n# not\n```')], ['a-b', 'vaulttransactionfn-and-its-cost', 'a-b-1'])
  assert.deepEqual(links('see [x](a.md#b) and `[y](z.md)`\n```\n[q](r.md)\n```\n[w](http://e)'), [{ target: 'a.md#b', line: 1 }, { target: 'http://e', line: 5 }])
})
