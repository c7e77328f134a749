import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { quote } from '../../../codec/checks.js'
import type { BuilderPlan, BuilderSpec, ColumnBuilderSpec, DependencyRef, IndexBuilderSpec } from './builder-types.js'
import { argumentStrings, indexBuilderName } from './builder-spec.js'
import { allReferences, findReferences, type ReferenceCondition, type TableReference } from './table-references.js'

/** What one builder reads: columns of the instance being built, and other tables. */
export interface BuilderReads {
  /** Columns of `self` it reads (in arguments, columns and conditions). */
  readonly selfColumns: readonly string[]
  /** Other tables it reads through its arguments, plus its declared dependencies (deduplicated). */
  readonly tables: readonly DependencyRef[]
}

/**
 * The columns a reference reads from its table: its selection, or every column when it selects
 * none (`'*'`), plus the columns its conditions test.
 */
export function referencedColumns(ref: TableReference): string[] | '*' {
  const tested = ref.conditions.flatMap((c: ReferenceCondition) => (c.kind === 'position' ? [] : [c.column]))
  if (ref.column !== undefined) return [ref.column, ...tested]
  if (ref.columns !== undefined) return [...ref.columns, ...tested]
  return '*'
}

/** What a builder reads (its references and dependencies); `allSelfColumns` are what `<<self>>` (no selection) reads. */
export function builderReads(spec: BuilderSpec, allSelfColumns: readonly string[] = []): BuilderReads {
  const self = new Set<string>()
  const tables = new Map<string, DependencyRef>()
  const addTable = (d: DependencyRef): void => {
    tables.set(`${d.table}\u0000${d.instance ?? ''}`, d)
  }
  for (const s of argumentStrings(spec.arguments)) {
    for (const { ref } of findReferences(s)) {
      for (const r of allReferences(ref)) {
        if (r.self) {
          const cols = referencedColumns(r)
          // `<<self>>` (every column) means every column but the builder's own.
          for (const c of cols === '*' ? allSelfColumns.filter((x) => !spec.changedColumns.includes(x)) : cols) self.add(c)
        } else addTable(r.instance === undefined ? { table: r.table } : { table: r.table, instance: r.instance })
      }
    }
  }
  for (const d of spec.dependencies) addTable(d)
  return { selfColumns: [...self], tables: [...tables.values()] }
}

/** Other tables' columns, when the caller knows them: `undefined` for a table that does not exist. */
export interface TableCatalog {
  columns(table: string): readonly string[] | undefined
}

/**
 * Check an instance's builders and put them in execution order: the index builder
 * (`<table>_index`, exactly one) first, then each column builder after every builder whose columns
 * it reads through `self` (input order otherwise). Errors: no index builder, two builders of one
 * name or one column (InvalidArgumentError); a `self` column no builder makes (NotFoundError); a
 * cycle (InvalidArgumentError naming it, `q1 → q2 → q1`); with a catalog, a table or column that
 * does not exist (NotFoundError naming the builder and it).
 */
export function planBuilders(table: string, specs: readonly BuilderSpec[], catalog?: TableCatalog): BuilderPlan {
  const indexName = indexBuilderName(table)
  const names = new Set<string>()
  let index: IndexBuilderSpec | undefined
  const columns: ColumnBuilderSpec[] = []
  for (const s of specs) {
    if (names.has(s.name)) throw new InvalidArgumentError(`table ${quote(table)}: two builders are named ${quote(s.name)}`)
    names.add(s.name)
    if (s.kind === 'index') {
      if (s.name !== indexName) throw new InvalidArgumentError(`table ${quote(table)}: the index builder must be named ${quote(indexName)}, not ${quote(s.name)}`)
      index = s
    } else columns.push(s)
  }
  if (!index) throw new InvalidArgumentError(`table ${quote(table)}: no index builder (exactly one builder, named ${quote(indexName)}, makes the rows)`)

  const maker = new Map<string, BuilderSpec>()
  for (const s of [index, ...columns]) {
    for (const c of s.changedColumns) {
      const other = maker.get(c)
      if (other) throw new InvalidArgumentError(`table ${quote(table)}: column ${quote(c)} is made by two builders, ${quote(other.name)} and ${quote(s.name)}`)
      maker.set(c, s)
    }
  }
  const allSelf = [...maker.keys()]

  const after = new Map<string, string[]>() // builder → the column builders it must follow
  for (const s of [index, ...columns]) {
    const reads = builderReads(s, allSelf)
    const deps = new Set<string>()
    for (const c of reads.selfColumns) {
      const m = maker.get(c)
      if (!m) throw new NotFoundError(`builder ${quote(s.name)} of table ${quote(table)} reads self.${c}, but no builder makes column ${quote(c)}`)
      if (m.kind === 'column') deps.add(m.name)
    }
    after.set(s.name, [...deps])
    if (catalog) {
      for (const d of reads.tables) {
        if (d.table === table) continue
        if (catalog.columns(d.table) === undefined) throw new NotFoundError(`builder ${quote(s.name)} of table ${quote(table)} reads table ${quote(d.table)}, which does not exist`)
      }
      for (const str of argumentStrings(s.arguments)) {
        for (const { ref } of findReferences(str)) {
          for (const r of allReferences(ref)) {
            if (r.self) continue
            const cols = referencedColumns(r)
            const known = r.table === table ? allSelf : catalog.columns(r.table)
            if (cols === '*' || known === undefined) continue
            for (const c of cols) {
              if (!known.includes(c)) throw new NotFoundError(`builder ${quote(s.name)} of table ${quote(table)} reads column ${quote(c)} of table ${quote(r.table)}, which has no such column`)
            }
          }
        }
      }
    }
  }

  // Depth-first topological order; the first back edge found is reported as the cycle.
  const order: ColumnBuilderSpec[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const byName = new Map(columns.map((c) => [c.name, c]))
  const path: string[] = []
  const visit = (name: string): void => {
    const st = state.get(name)
    if (st === 'done') return
    if (st === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name]
      throw new InvalidArgumentError(`table ${quote(table)}: the builders read each other's columns in a cycle: ${cycle.join(' → ')}`)
    }
    state.set(name, 'visiting')
    path.push(name)
    for (const d of after.get(name)!) visit(d)
    path.pop()
    state.set(name, 'done')
    order.push(byName.get(name)!)
  }
  for (const c of columns) visit(c.name)
  return { table, index, columns: order }
}
