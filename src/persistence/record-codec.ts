import { CorruptionError } from '../errors/errors.js'
import type { SqlValue, StatementGroup } from '../sqlite/sqlite-database.js'

/**
 * The payload of a log record: the statements of one commit in a compact binary form
 * (docs/format.md, "Record payload"). A general-purpose encoder was the largest cost of a bulk
 * write (100k rows: ~350 ms in msgpackr); this writes the few SQL value types directly.
 *
 * payload  := u32 groupCount, group*
 * group    := u32 sqlLength, sql (UTF-8), u32 runCount, u32 paramCount, value{runCount × paramCount}
 *             (runCount 0: a script run once without parameters)
 * value    := u8 tag, body — 0 null | 1 int32 (4) | 2 float64 (8) | 3 int64 bigint (8)
 *             | 4 text (u32 length, UTF-8) | 5 blob (u32 length, bytes)
 * Numbers keep the JS value exactly, so a replay binds what the original call bound.
 */
const enum Tag {
  Null = 0,
  Int32 = 1,
  Float64 = 2,
  BigInt64 = 3,
  Text = 4,
  Blob = 5,
}

const encoder = new TextEncoder()
/** Text and blobs up to this length are copied by a loop rather than a native call. */
const SMALL = 64
// ignoreBOM: a text that begins with U+FEFF is data (a key, a name): the default would drop that
// character on replay, making two keys one (data lost) or two names collide (the vault not opening).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

class Writer {
  buf = new Uint8Array(1024)
  view = new DataView(this.buf.buffer)
  pos = 0

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 4
    while (size < this.pos + n) size *= 4
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v
  }

  u32(v: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, v, true)
    this.pos += 4
  }

  bytes(b: Uint8Array): void {
    const n = b.length
    this.ensure(4 + n)
    this.view.setUint32(this.pos, n, true)
    this.pos += 4
    if (n <= SMALL) {
      // A bulk write logs 100k small values: a plain loop beats `set` (a native call) per value,
      // most in JavaScriptCore (WebKit).
      const buf = this.buf
      let pos = this.pos
      for (let i = 0; i < n; i++) buf[pos++] = b[i]!
      this.pos = pos
      return
    }
    this.buf.set(b, this.pos)
    this.pos += n
  }

  text(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place, no temporary array.
    const n = s.length
    this.ensure(4 + n * 3)
    const start = this.pos
    if (n <= SMALL) {
      // Short ASCII text (keys, names) written by hand: no view object and native call per string.
      const buf = this.buf
      let pos = start + 4
      let i = 0
      for (; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        buf[pos++] = c
      }
      if (i === n) {
        this.view.setUint32(start, n, true)
        this.pos = pos
        return
      }
    }
    this.pos = start + 4
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.pos))
    this.view.setUint32(start, written, true)
    this.pos += written
  }

  value(v: SqlValue): void {
    if (v === null || v === undefined) return this.u8(Tag.Null)
    switch (typeof v) {
      case 'number':
        this.ensure(9)
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.buf[this.pos++] = Tag.Int32
          this.view.setInt32(this.pos, v, true)
          this.pos += 4
        } else {
          this.buf[this.pos++] = Tag.Float64
          this.view.setFloat64(this.pos, v, true)
          this.pos += 8
        }
        return
      case 'bigint':
        this.ensure(9)
        this.buf[this.pos++] = Tag.BigInt64
        this.view.setBigInt64(this.pos, v, true)
        this.pos += 8
        return
      case 'string':
        this.u8(Tag.Text)
        return this.text(v)
      default:
        if (v instanceof Uint8Array) {
          this.u8(Tag.Blob)
          return this.bytes(v)
        }
        throw new TypeError(`cannot log a parameter of type ${typeof v}`)
    }
  }
}

/** Encode the statements of one commit. */
export function encodeStatements(groups: StatementGroup[]): Uint8Array {
  const w = new Writer()
  w.u32(groups.length)
  for (const [sql, runs] of groups) {
    w.text(sql)
    w.u32(runs.length)
    const paramCount = runs[0]?.length ?? 0
    w.u32(paramCount)
    for (const params of runs) {
      if (params.length !== paramCount) throw new TypeError('every run of a statement must bind the same number of parameters')
      for (let i = 0; i < paramCount; i++) w.value(params[i]!)
    }
  }
  return w.buf.subarray(0, w.pos)
}

/** Decode a payload written by {@link encodeStatements}. */
export function decodeStatements(payload: Uint8Array): StatementGroup[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  let pos = 0
  const need = (n: number) => {
    if (pos + n > payload.length) throw new CorruptionError('log record payload is truncated')
  }
  const u32 = () => {
    need(4)
    const v = view.getUint32(pos, true)
    pos += 4
    return v
  }
  const text = () => {
    const n = u32()
    need(n)
    const s = decoder.decode(payload.subarray(pos, pos + n))
    pos += n
    return s
  }
  const groups: StatementGroup[] = []
  const groupCount = u32()
  for (let g = 0; g < groupCount; g++) {
    const sql = text()
    const runCount = u32()
    const paramCount = u32()
    const runs: SqlValue[][] = new Array(runCount)
    for (let r = 0; r < runCount; r++) {
      const params: SqlValue[] = new Array(paramCount)
      for (let i = 0; i < paramCount; i++) {
        need(1)
        const tag = payload[pos++]
        switch (tag) {
          case Tag.Null:
            params[i] = null
            break
          case Tag.Int32:
            need(4)
            params[i] = view.getInt32(pos, true)
            pos += 4
            break
          case Tag.Float64:
            need(8)
            params[i] = view.getFloat64(pos, true)
            pos += 8
            break
          case Tag.BigInt64:
            need(8)
            params[i] = view.getBigInt64(pos, true)
            pos += 8
            break
          case Tag.Text:
            params[i] = text()
            break
          case Tag.Blob: {
            const n = u32()
            need(n)
            params[i] = payload.subarray(pos, pos + n)
            pos += n
            break
          }
          default:
            throw new CorruptionError(`log record holds an unknown value tag ${tag}`)
        }
      }
      runs[r] = params
    }
    groups.push([sql, runs])
  }
  return groups
}
