import { parse as parseYaml } from 'yaml'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkName, isWellFormed, quote } from '../../../codec/checks.js'
import { checkColumnName } from '../../columns/shared/dtypes.js'
import { typeName } from '../../columns/shared/value-errors.js'
import type {
  ArgumentValue, BuilderArguments, BuilderSpec, ColumnBuilderSpec, DependencyRef, IndexBuilderSpec, ReturnType,
} from './builder-types.js'
import { allReferences, findReferences, parseReference, usesIndex } from './table-references.js'
import { parseTableDType } from './table-dtypes.js'

/**
 * Builder specs from an object, JSON text or YAML text, validated field by field. Field names are
 * camelCase; TableVault's YAML spellings are accepted as aliases (so its builder files port as they
 * are): builder_type (IndexBuilder / ColumnBuilder), changed_columns, python_function + code_module,
 * n_threads, return_type (`dataframe` = `rows`), primary_key, keep_old, and `is_custom: false`.
 */

/** Longest builder name, in characters. */
export const MAX_BUILDER_NAME_CHARS = 512
/** Most row-wise calls in flight at once. */
export const MAX_CONCURRENCY = 1024

const FIELDS = ['kind', 'changedColumns', 'function', 'arguments', 'returnType', 'dtypes', 'dependencies', 'concurrency', 'primaryKey', 'keepOld', 'description'] as const
const ALIASES: Readonly<Record<string, string>> = {
  builder_type: 'kind', changed_columns: 'changedColumns', n_threads: 'concurrency', return_type: 'returnType',
  primary_key: 'primaryKey', keep_old: 'keepOld', python_function: 'function.export', code_module: 'function.module',
}

/** Where a builder is being created: its table and its name. */
export interface BuilderPlace {
  readonly table: string
  readonly name: string
}

/** The name the one index builder of `table` must have. */
export function indexBuilderName(table: string): string {
  return `${table}_index`
}

function fail(place: BuilderPlace, field: string, msg: string): never {
  throw new InvalidArgumentError(`builder ${quote(place.name)} of table ${quote(place.table)}: ${field}: ${msg}`)
}

/** Text → object: JSON when it starts with `{`, YAML otherwise. */
function fromText(text: string, place: BuilderPlace): unknown {
  const trimmed = text.trim()
  try {
    return trimmed.startsWith('{') ? JSON.parse(trimmed) : parseYaml(text)
  } catch (err) {
    return fail(place, 'text', `not valid ${trimmed.startsWith('{') ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`)
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** Fold aliases into camelCase fields; refuse unknown fields and a field given twice. */
function normalise(raw: Record<string, unknown>, place: BuilderPlace): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  const put = (field: string, value: unknown, given: string): void => {
    if (Object.hasOwn(out, field)) fail(place, given, `given twice (as ${given} and under another spelling)`)
    out[field] = value
  }
  let fnModule: unknown
  let fnExport: unknown
  for (const key of Object.keys(raw)) {
    const value = raw[key]
    const alias = Object.hasOwn(ALIASES, key) ? ALIASES[key]! : undefined
    if (alias === 'function.export') fnExport = value
    else if (alias === 'function.module') fnModule = value
    else if (key === 'is_custom') {
      // TableVault's custom builders (a Python class of one's own) have no equivalent here.
      if (value !== false) fail(place, 'is_custom', 'custom builders are not supported (is_custom must be false or absent)')
    } else if (alias !== undefined) put(alias, value, key)
    else if ((FIELDS as readonly string[]).includes(key)) put(key, value, key)
    else fail(place, quote(key), `unknown field (fields: ${FIELDS.join(', ')})`)
  }
  if (fnModule !== undefined || fnExport !== undefined) put('function', { module: fnModule, export: fnExport }, 'python_function')
  return out
}

function checkString(place: BuilderPlace, field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || !isWellFormed(v)) fail(place, field, `must be a non-empty well-formed string, got ${typeof v === 'string' ? quote(v) : typeName(v)}`)
  return v
}

function checkColumns(place: BuilderPlace, field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(place, field, `must be a non-empty array of column names, got ${typeName(v)}`)
  const seen = new Set<string>()
  return v.map((c, i) => {
    try {
      checkColumnName(c)
    } catch (err) {
      fail(place, `${field}[${i}]`, (err as Error).message)
    }
    if (seen.has(c)) fail(place, `${field}[${i}]`, `column ${quote(c)} is listed twice`)
    seen.add(c)
    return c
  })
}

function checkArgument(place: BuilderPlace, path: string, v: unknown, depth: number): ArgumentValue {
  if (depth > 64) fail(place, path, 'nested more than 64 levels')
  if (v === null || typeof v === 'boolean') return v
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(place, path, `${v} is not a finite number`)
    return v
  }
  if (typeof v === 'string') {
    if (!isWellFormed(v)) fail(place, path, 'a string with a lone surrogate')
    return v
  }
  if (Array.isArray(v)) return v.map((x, i) => checkArgument(place, `${path}[${i}]`, x, depth + 1))
  if (isPlainObject(v)) {
    const out: Record<string, ArgumentValue> = {}
    for (const k of Object.keys(v)) {
      if (!isWellFormed(k)) fail(place, path, 'a key with a lone surrogate')
      Object.defineProperty(out, k, { value: checkArgument(place, `${path}.${k}`, v[k], depth + 1), enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  return fail(place, path, `${typeName(v)} is not a JSON value (arguments are strings, numbers, booleans, null, arrays and plain objects)`)
}

/** Every string inside an argument value. */
export function argumentStrings(v: ArgumentValue, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v)
  else if (Array.isArray(v)) for (const x of v) argumentStrings(x as ArgumentValue, out)
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) argumentStrings(x as ArgumentValue, out)
  return out
}

function parseDependency(place: BuilderPlace, field: string, v: unknown): DependencyRef {
  if (isPlainObject(v)) {
    const table = checkString(place, `${field}.table`, v['table'])
    if (v['instance'] === undefined) return { table }
    return { table, instance: checkString(place, `${field}.instance`, v['instance']) }
  }
  const text = checkString(place, field, v).trim()
  let ref
  try {
    ref = parseReference(text.startsWith('<<') ? text : `<<${text}>>`)
  } catch (err) {
    fail(place, field, (err as Error).message)
  }
  if (ref.self) fail(place, field, 'self is not a dependency (a builder depends on other tables)')
  return ref.instance === undefined ? { table: ref.table } : { table: ref.table, instance: ref.instance }
}

/**
 * Validate a builder spec (an object, or JSON or YAML text of one) for builder `name` of `table`.
 * Returns a frozen-shape copy with every default filled in; InvalidArgumentError naming the builder
 * and the field otherwise. An index builder is one whose kind is `index` (TableVault: IndexBuilder);
 * with no kind given, the builder named `<table>_index` is the index builder.
 */
export function parseBuilder(input: unknown, place: BuilderPlace): BuilderSpec {
  checkName(place.table, 'a table name', MAX_BUILDER_NAME_CHARS)
  checkName(place.name, 'a builder name', MAX_BUILDER_NAME_CHARS)
  const raw = typeof input === 'string' ? fromText(input, place) : input
  if (!isPlainObject(raw)) fail(place, 'spec', `must be an object (or JSON or YAML text of one), got ${typeName(raw)}`)
  const f = normalise(raw, place)
  const indexName = indexBuilderName(place.table)

  let kind: 'index' | 'column'
  const k = f['kind']
  if (k === undefined) kind = place.name === indexName ? 'index' : 'column'
  else if (k === 'index' || k === 'IndexBuilder') kind = 'index'
  else if (k === 'column' || k === 'ColumnBuilder') kind = 'column'
  else fail(place, 'kind', `must be "index" or "column", got ${typeof k === 'string' ? quote(k) : typeName(k)}`)
  if (kind === 'index' && place.name !== indexName) fail(place, 'kind', `the index builder of table ${quote(place.table)} must be named ${quote(indexName)}`)
  if (kind === 'column' && place.name === indexName) fail(place, 'kind', `${quote(indexName)} is the index builder's name: its kind must be "index"`)

  const changedColumns = checkColumns(place, 'changedColumns', f['changedColumns'])

  const fn = f['function']
  if (!isPlainObject(fn)) fail(place, 'function', `must be { module, export }, got ${typeName(fn)}`)
  for (const key of Object.keys(fn)) if (key !== 'module' && key !== 'export') fail(place, `function.${key}`, 'unknown field (fields: module, export)')
  const func = { module: checkString(place, 'function.module', fn['module']), export: checkString(place, 'function.export', fn['export']) }

  const argsRaw = f['arguments'] ?? {}
  if (!isPlainObject(argsRaw)) fail(place, 'arguments', `must be an object, got ${typeName(argsRaw)}`)
  const args = checkArgument(place, 'arguments', argsRaw, 0) as BuilderArguments

  let returnType: ReturnType
  const rt = f['returnType'] ?? (kind === 'index' ? 'rows' : 'row-wise')
  if (rt === 'rows' || rt === 'dataframe') returnType = 'rows'
  else if (rt === 'row-wise' || rt === 'generator') returnType = rt
  else fail(place, 'returnType', `must be "rows", "row-wise" or "generator", got ${typeof rt === 'string' ? quote(rt) : typeName(rt)}`)
  if (kind === 'index' && returnType === 'row-wise') fail(place, 'returnType', 'an index builder makes the rows: its returnType is "rows" or "generator"')

  // References are checked now, so a bad one is refused when the builder is created.
  for (const s of argumentStrings(args)) {
    let found
    try {
      found = findReferences(s)
    } catch (err) {
      fail(place, 'arguments', (err as Error).message)
    }
    for (const { ref } of found) {
      for (const r of allReferences(ref)) {
        if (r.self && kind === 'index') fail(place, 'arguments', `the index builder cannot read self (no row exists yet): ${quote(s, 200)}`)
        if (r.self && r.instance !== undefined) fail(place, 'arguments', `self has no instance to choose: ${quote(s, 200)}`)
      }
      if (usesIndex(ref) && returnType !== 'row-wise') fail(place, 'arguments', `"index" (the current row) is only known to row-wise builders: ${quote(s, 200)}`)
    }
  }

  const dtypesRaw = f['dtypes'] ?? {}
  if (!isPlainObject(dtypesRaw)) fail(place, 'dtypes', `must be an object of column → dtype, got ${typeName(dtypesRaw)}`)
  const dtypes: Record<string, string> = {}
  for (const col of Object.keys(dtypesRaw)) {
    if (!changedColumns.includes(col)) fail(place, `dtypes.${col}`, `${quote(col)} is not one of changedColumns`)
    Object.defineProperty(dtypes, col, { value: parseTableDType(dtypesRaw[col], `builder ${quote(place.name)}: dtypes.${col}`).name, enumerable: true, writable: true, configurable: true })
  }

  const depsRaw = f['dependencies'] ?? []
  if (!Array.isArray(depsRaw)) fail(place, 'dependencies', `must be an array of table references, got ${typeName(depsRaw)}`)
  const dependencies = depsRaw.map((d, i) => parseDependency(place, `dependencies[${i}]`, d))

  const conc = f['concurrency'] ?? 1
  if (typeof conc !== 'number' || !Number.isInteger(conc) || conc < 1 || conc > MAX_CONCURRENCY) {
    fail(place, 'concurrency', `must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${typeof conc === 'number' ? conc : typeName(conc)}`)
  }

  const description = f['description'] ?? ''
  if (typeof description !== 'string' || !isWellFormed(description)) fail(place, 'description', `must be a well-formed string, got ${typeName(description)}`)

  const common = { name: place.name, changedColumns, function: func, arguments: args, dtypes, dependencies, concurrency: conc, description }
  if (kind === 'column') {
    if (f['primaryKey'] !== undefined) fail(place, 'primaryKey', 'only the index builder has a primary key')
    if (f['keepOld'] !== undefined) fail(place, 'keepOld', 'only the index builder keeps old rows')
    return { kind, ...common, returnType } satisfies ColumnBuilderSpec
  }
  const primaryKey = f['primaryKey'] === undefined ? changedColumns : checkColumns(place, 'primaryKey', f['primaryKey'])
  for (const c of primaryKey) if (!changedColumns.includes(c)) fail(place, 'primaryKey', `${quote(c)} is not one of changedColumns`)
  const keepOld = f['keepOld'] ?? false
  if (typeof keepOld !== 'boolean') fail(place, 'keepOld', `must be true or false, got ${typeName(keepOld)}`)
  return { kind, ...common, returnType: returnType as 'rows' | 'generator', primaryKey, keepOld } satisfies IndexBuilderSpec
}

/** A spec as plain data with sorted keys: its canonical JSON is what fingerprints hash. */
export function canonicalBuilderJson(spec: BuilderSpec): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort)
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sort(o[k])]))
    }
    return v
  }
  // description does not change what is computed.
  const { description: _ignored, ...rest } = spec
  return JSON.stringify(sort(rest))
}
