import type { Vector } from 'apache-arrow'
import { storedToReadable, storedToVector, vectorStored } from '../../shared/table-arrow.js'
import type { TableDType } from '../../shared/table-dtypes.js'

/**
 * A column of the instance being built, held as stored values, as an Arrow vector, or both: each
 * form is made from the other only when asked for (a fully reused column is the origin's vector,
 * never copied value by value unless a later builder reads it).
 */
export class SelfColumn {
  private storedForm: readonly unknown[] | undefined
  private vectorForm: Vector | undefined
  private readableForm: readonly unknown[] | undefined
  constructor(readonly dtype: TableDType, form: { stored: readonly unknown[] } | { vector: Vector }) {
    if ('stored' in form) this.storedForm = form.stored
    else this.vectorForm = form.vector
  }
  get stored(): readonly unknown[] {
    return (this.storedForm ??= vectorStored(this.vectorForm!))
  }
  get vector(): Vector {
    return (this.vectorForm ??= storedToVector(this.dtype, this.storedForm!))
  }
  /** What builders reading it through `self` see. */
  get readable(): readonly unknown[] {
    const k = this.dtype.kind
    return (this.readableForm ??= k === 'json' || k === 'msgpack' ? this.stored.map((v) => storedToReadable(this.dtype, v)) : this.stored)
  }
}

function keyPart(v: unknown): string {
  if (v === null || v === undefined) return 'z'
  if (typeof v === 'bigint') return `n${v}`
  if (typeof v === 'number') return Number.isInteger(v) ? `n${v}` : `f${v}`
  if (typeof v === 'string') return `s${v}`
  if (typeof v === 'boolean') return `b${v}`
  if (ArrayBuffer.isView(v)) return `a${Array.from(v as unknown as ArrayLike<number | bigint>, String).join(',')}`
  return `j${JSON.stringify(v)}`
}

/**
 * A row's primary key as one Map key. One numeric or plain-string column is its own key (a column
 * has one dtype, so its values cannot collide across types, and Map compares numbers and bigints
 * by value); otherwise the values are tagged by type and joined, so 1 and "1" differ.
 */
export function rowKeys(cols: readonly (readonly unknown[])[], dtypes: readonly TableDType[]): (i: number) => unknown {
  if (cols.length === 1) {
    const c = cols[0]!
    const k = dtypes[0]!.kind
    if (!dtypes[0]!.nullable && (k === 'i32' || k === 'i64' || k === 'f32' || k === 'f64' || k === 'str' || k === 'artifact')) return (i) => c[i]
    return (i) => keyPart(c[i])
  }
  return (i) => JSON.stringify(cols.map((c) => keyPart(c[i])))
}

