/**
 * Text → search tokens. A token is a run of letters (with their combining marks), digits and underscores, lowercased: so
 * `test_location` is one token and a query for `test` does not match it (identifiers in code and
 * column names stay whole), while `Test.` and `test` are the same token. Text is put in Unicode's
 * NFKC form first, so that one word typed two ways is one token: a composed `é` (U+00E9) and an `e`
 * with a combining accent (what macOS file names and some keyboards give), full-width `ｔｅｓｔ` and
 * `test`, the ligature `ﬁ` and `fi`.
 */
// \p{M}: combining marks belong to the word they sit in (Devanagari vowel signs and viramas, Arabic
// harakat, a decomposed é). Without them "नमस्ते" was cut into "नमस" and "त": a query for it matched
// the unrelated text "नमस त", and a query for the fragment "नमस" matched the whole word.
const TOKEN = /[\p{L}\p{M}\p{N}_]+/gu

/** The tokens of `text`, in order, with repeats. */
export function tokenize(text: string): string[] {
  // NFKC before lowercasing: compatibility forms may map to capitals (U+210C ℌ → H). NFC after:
  // a capital with a combining accent that has no composed form (Ϊ + U+0301) lowercases to letters
  // that do compose (ΐ, U+0390), so "ΠΡΩΤΕΪ́ΝΗ" and "πρωτεΐνη" were different tokens. Final sigma
  // folded to σ: toLowerCase makes Σ a ς or a σ by what follows it, even past the token's end
  // ("ΟΔΟΣ" → "οδος", "ΟΔΟΣ'Α" → "οδοσ"), so one word got two tokens; case folding treats them alike.
  return text.normalize('NFKC').toLowerCase().normalize('NFC').replace(FINAL_SIGMA, 'σ').match(TOKEN) ?? []
}

const FINAL_SIGMA = /ς/g

/** The searchable text of a record value: its strings, numbers and booleans, nested ones included. */
export function recordText(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 32) return out
  switch (typeof value) {
    case 'string':
      out.push(value)
      break
    case 'number':
    case 'bigint':
    case 'boolean':
      out.push(String(value))
      break
    case 'object':
      if (value === null || ArrayBuffer.isView(value)) break
      if (value instanceof Date) out.push(value.toISOString())
      else if (value instanceof Map) for (const v of value.values()) recordText(v, out, depth + 1)
      else if (value instanceof Set || Array.isArray(value)) for (const v of value) recordText(v, out, depth + 1)
      else for (const v of Object.values(value)) recordText(v, out, depth + 1)
      break
  }
  return out
}

/** Length of a string in Unicode code points (document positions count code points). */
export function codePointLength(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1)
      if (p >= 0xd800 && p <= 0xdbff) n--
    }
  }
  return n
}

/** `s` from code point `start` to `end` (exclusive). */
export function sliceCodePoints(s: string, start: number, end: number): string {
  if (codePointLength(s) === s.length) return s.slice(start, end)
  return Array.from(s).slice(start, end).join('')
}
