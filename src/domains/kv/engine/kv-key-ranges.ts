import { checkWholeNumber } from '../../../codec/checks.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { checkKey } from '../shared/kv-keys.js'
import type { Key, KeyQuery } from '../shared/kv-types.js'

// The SQL of a key query (keys(), scan()): a namespace, a prefix turned into a half-open key range
// (so SQLite walks the primary key's B-tree from the prefix on, rather than testing every key with
// LIKE or substr), a key to start after (the next page of an iteration) and a limit.

export function limitClause(limit: number | undefined): string {
  if (limit === undefined) return ''
  return ` LIMIT ${checkWholeNumber(limit, 'limit', 0)}`
}

export function rangeClause(ns: number, query: KeyQuery & { after?: Key }): [string, SqlValue[]] {
  let where = 'ns = ?'
  const params: SqlValue[] = [ns]
  if (query.prefix !== undefined) {
    checkKey(query.prefix)
    if (typeof query.prefix === 'string') {
      where += " AND typeof(key) = 'text' AND key >= ?"
      params.push(query.prefix)
      const upper = textUpperBound(query.prefix)
      if (upper !== undefined) {
        where += ' AND key < ?'
        params.push(upper)
      }
    } else {
      where += " AND typeof(key) = 'blob' AND key >= ?"
      params.push(query.prefix)
      const upper = bytesUpperBound(query.prefix)
      if (upper) {
        where += ' AND key < ?'
        params.push(upper)
      }
    }
  }
  if (query.after !== undefined) {
    checkKey(query.after)
    where += ' AND key > ?'
    params.push(query.after)
  }
  return [where, params]
}

/**
 * The smallest string greater than every string with this prefix, in UTF-8 byte order (which is
 * code point order): the prefix with its last code point raised by one (code points of U+10FFFF
 * dropped first); undefined when there is none (the prefix is empty or all U+10FFFF).
 */
function textUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix)
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1)
  }
  return undefined
}

/** The smallest byte string greater than every string with this prefix; undefined when none (all 0xff). */
function bytesUpperBound(prefix: Uint8Array): Uint8Array | undefined {
  const out = prefix.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]!++
      return out.subarray(0, i + 1)
    }
  }
  return undefined
}
