// The names of a Parquet file's schema elements, read from its footer with a leading U+FEFF kept.
// hyparquet decodes every name with a TextDecoder made with the defaults, which drops a U+FEFF at
// the start: a column DuckDB wrote as "\uFEFFa" was read as "a", and beside a column "a" the two
// became one (the table had one column, its values the first's). The footer is Thrift's compact
// protocol; only the schema list's names are taken, everything else is skipped.
import { InvalidArgumentError } from '../../errors/errors.js'

const names = new TextDecoder('utf-8', { ignoreBOM: true })

/** A cursor over the footer's bytes, skipping what is not needed. */
class Compact {
  at = 0
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new InvalidArgumentError('bytes are not a Parquet file (its footer ends early)')
    return this.bytes[this.at++]!
  }

  varint(): number {
    let out = 0
    let scale = 1
    for (;;) {
      const b = this.byte()
      out += (b & 0x7f) * scale
      if (b < 0x80) return out
      scale *= 128
    }
  }

  binary(): Uint8Array {
    const n = this.varint()
    if (this.at + n > this.bytes.length) throw new InvalidArgumentError('bytes are not a Parquet file (its footer ends early)')
    return this.bytes.subarray(this.at, (this.at += n))
  }

  /** Each field of a struct: `onField(id, type)` reads it and returns true, or returns false to skip it. */
  struct(onField: (id: number, type: number) => boolean = () => false): void {
    let id = 0
    for (;;) {
      const header = this.byte()
      if (header === 0) return
      const type = header & 0x0f
      const delta = header >> 4
      if (delta !== 0) id += delta
      else {
        const z = this.varint()
        id = (z >>> 1) ^ -(z & 1)
      }
      if (!onField(id, type)) this.skip(type)
    }
  }

  /** A list's elements: `each(type)` reads one. */
  list(each: (type: number) => void): void {
    const header = this.byte()
    const size = header >> 4 === 15 ? this.varint() : header >> 4
    for (let i = 0; i < size; i++) each(header & 0x0f)
  }

  skip(type: number): void {
    switch (type) {
      case 1: case 2: return // a boolean field holds its value in its type
      case 3: this.at++; return
      case 4: case 5: case 6: this.varint(); return
      case 7: this.at += 8; return
      case 8: this.binary(); return
      case 9: case 10: this.list((t) => (t === 1 || t === 2 ? this.at++ : this.skip(t))); return
      case 11: {
        const size = this.varint()
        if (size === 0) return
        const types = this.byte()
        for (let i = 0; i < size; i++) (this.skip(types >> 4), this.skip(types & 0x0f))
        return
      }
      case 12: this.struct(); return
      default: throw new InvalidArgumentError(`bytes are not a Parquet file (an unknown Thrift type ${type} in its footer)`)
    }
  }
}

/** Every schema element's name, in the footer's order (the root first), a leading U+FEFF kept. */
export function schemaNames(file: ArrayBuffer): string[] {
  const view = new DataView(file)
  const length = view.getUint32(file.byteLength - 8, true)
  const reader = new Compact(new Uint8Array(file, file.byteLength - 8 - length, length))
  const out: string[] = []
  reader.struct((id, type) => {
    // FileMetaData field 2: list<SchemaElement>; SchemaElement field 4: name.
    if (id !== 2 || type !== 9) return false
    reader.list(() => {
      let name = ''
      reader.struct((field, t) => {
        if (field !== 4 || t !== 8) return false
        name = names.decode(reader.binary())
        return true
      })
      out.push(name)
    })
    return true
  })
  return out
}
