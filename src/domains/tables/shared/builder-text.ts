import { parse, stringify } from 'yaml'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { indexBuilderName } from './table-names.js'

/**
 * A builder spec as stored: its text (YAML or JSON as given, YAML for an object) and the mapping it
 * parses to. The builder language itself (fields, references, ordering) is checked where builders
 * are compiled for execution (src/domains/tables/engine/compute); here only what storage needs: a
 * mapping, and TableVault's rule that the one index builder of a table is named `<table>_index`.
 */
export function builderText(spec: unknown, where: string): { text: string; spec: Record<string, unknown> } {
  let text: string
  let value: unknown
  if (typeof spec === 'string') {
    text = spec
    try {
      value = parse(spec)
    } catch (err) {
      throw new InvalidArgumentError(`${where}: the builder text is neither JSON nor YAML: ${(err as Error).message}`)
    }
  } else {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec) || Object.getPrototypeOf(spec) !== Object.prototype) throw new InvalidArgumentError(`${where}: a builder spec is a plain object, or its JSON or YAML text`)
    value = spec
    try {
      text = stringify(spec)
      // What was stored must read back as the same mapping (no functions, symbols, cycles).
      if (JSON.stringify(parse(text)) !== JSON.stringify(spec)) throw new Error('it does not survive YAML')
    } catch (err) {
      throw new InvalidArgumentError(`${where}: the builder spec cannot be stored as YAML: ${(err as Error).message}`)
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(`${where}: a builder spec must be a mapping of fields`)
  return { text, spec: value as Record<string, unknown> }
}

/** True when the spec declares an index builder (labvault's `kind: index` or TableVault's `builder_type: IndexBuilder`). */
export function isIndexSpec(spec: Record<string, unknown>): boolean {
  const type = spec['kind'] ?? spec['builderType'] ?? spec['builder_type']
  return typeof type === 'string' && /^index(builder)?$/i.test(type)
}

/** TableVault's index rule: an index builder is named `<table>_index`, and only it. */
export function checkBuilderName(table: string, name: string, spec: Record<string, unknown> | undefined): void {
  const indexName = indexBuilderName(table)
  if (spec && isIndexSpec(spec) && name !== indexName) throw new InvalidArgumentError(`an index builder of table "${table}" must be named "${indexName}", not "${name}"`)
  if (name.endsWith('_index') && name !== indexName) throw new InvalidArgumentError(`builder "${name}": only the index builder, "${indexName}", may end with "_index"`)
}
