// Lists the public exports of labvault's entries that carry no doc comment. It reads the emitted
// declarations (dist/types: JSDoc survives there) with TypeScript 6's compiler API, installed in this
// folder beside TypeDoc (the project's TypeScript 7 has no stable compiler API yet).
// Usage: node tools/apidocs/undocumented.mjs [dist/types/index.d.ts dist/types/node.d.ts]
// Prints JSON: { entries: { [entry]: string[] /* exported names */ }, undocumented: string[],
// interfaceFields: string[] /* fields of exported interfaces without a doc comment: reported, not required */ }.
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

const require = createRequire(import.meta.url)
const ts = require('typescript')

/**
 * Public exports of each entry (following `export *` and re-exports), and the ones whose declarations
 * have no JSDoc comment, as `entry: name`. A re-export counts as documented when the declaration it
 * resolves to is.
 */
export function undocumentedExports(entries) {
  const program = ts.createProgram(entries, { noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] })
  const checker = program.getTypeChecker()
  const result = { entries: {}, undocumented: [], interfaceFields: [] }
  for (const entry of entries) {
    const source = program.getSourceFile(entry)
    if (!source) throw new Error(`cannot read ${entry}`)
    const moduleSymbol = checker.getSymbolAtLocation(source)
    const exports = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []
    const label = entry.split('/').pop()
    result.entries[label] = exports.map((s) => s.getName()).sort()
    for (const exported of exports) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const declarations = target.getDeclarations() ?? []
      const documented = declarations.some((d) => ts.getJSDocCommentsAndTags(d).length > 0 || hasLeadingJsDoc(d))
      if (!documented) result.undocumented.push(`${label}: ${exported.getName()}`)
      for (const d of declarations) {
        if (ts.isClassDeclaration(d)) for (const member of undocumentedMembers(checker, d)) result.undocumented.push(`${label}: ${exported.getName()}.${member}`)
        // Interface fields are listed apart, not (yet) required: many are record shapes (a run, a
        // prediction) whose fields the guides describe.
        if (ts.isInterfaceDeclaration(d)) {
          for (const m of d.members) if (m.name && ts.getJSDocCommentsAndTags(m).length === 0) result.interfaceFields.push(`${label}: ${exported.getName()}.${m.name.getText()}`)
        }
      }
    }
  }
  return result
}

/**
 * Public members of an exported class without a doc comment. A member counts as documented when one
 * of its overloads is, or when the member it implements or overrides (interface, base class) is:
 * that is the text TypeDoc shows for it.
 */
function undocumentedMembers(checker, cls) {
  const missing = []
  const classType = checker.getTypeAtLocation(cls)
  const supers = [...(classType.getBaseTypes?.() ?? [])]
  for (const clause of cls.heritageClauses ?? []) for (const t of clause.types) supers.push(checker.getTypeAtLocation(t))
  for (const m of cls.members) {
    if (ts.isConstructorDeclaration(m) || ts.isClassStaticBlockDeclaration(m) || !m.name || ts.isPrivateIdentifier(m.name)) continue
    if (ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue
    const name = m.name.getText()
    const symbol = checker.getSymbolAtLocation(m.name)
    const own = (symbol?.getDeclarations() ?? [m]).some((d) => ts.getJSDocCommentsAndTags(d).length > 0)
    const inherited = supers.some((t) => (t.getProperty(name)?.getDeclarations() ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0))
    if (!own && !inherited && !missing.includes(name)) missing.push(name)
  }
  return missing
}

/** A `/** … *\/` comment right before the declaration (or its statement, for `const` exports). */
function hasLeadingJsDoc(node) {
  for (let n = node; n && !ts.isSourceFile(n); n = n.parent) {
    const text = n.getSourceFile().getFullText()
    const ranges = ts.getLeadingCommentRanges(text, n.getFullStart()) ?? []
    if (ranges.some((r) => text.slice(r.pos, r.pos + 3) === '/**')) return true
    if (ts.isVariableStatement(n) || ts.isStatement(n)) break
  }
  return false
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const entries = (args.length ? args : ['dist/types/index.d.ts', 'dist/types/node.d.ts']).map((p) => resolve(p))
  process.stdout.write(JSON.stringify(undocumentedExports(entries), null, 1) + '\n')
}
