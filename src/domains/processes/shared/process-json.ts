import { InvalidArgumentError } from '../../../errors/errors.js'
import { fitsUtf8 } from '../../../codec/checks.js'

/**
 * The most UTF-8 bytes of JSON text a process's progress, or one journal entry's state, may take.
 * Progress is sent back by every `get`, `list` and `active` (each process's), and each checkpoint
 * that records it is a commit of the whole value: it says how far the work got, the work's data
 * belongs in kv, a table or the store. Without a bound a 300 MB value was accepted, then carried
 * by every read of the processes (found by a probe).
 */
export const MAX_PROCESS_JSON_BYTES = 65_536

/**
 * Progress (checkpoint, done) and journal state are stored as JSON text. What JSON would store as
 * something else without a word is refused with InvalidArgumentError, as kv's `encoding: 'json'`
 * refuses it: NaN and ±Infinity (JSON writes null: a diverged loss read back as null), a Map or Set
 * (written `{}`), a typed array or ArrayBuffer (an object of indexes, or `{}`). JSON's other rules
 * stand: -0 is 0, a Date is its ISO text (an object's `toJSON` is used), undefined properties are
 * left out. Cycles and bigints are JSON.stringify's to refuse (the callers turn that into
 * InvalidArgumentError too). `where` names the value in the message (`progress.loss`).
 */
export function checkProcessJson(value: unknown, where: string): void {
  walk(value, where, 0, new Set(), { chars: 0, top: where })
}

/**
 * The value's JSON text (undefined when JSON has none: undefined, a function, a symbol), after
 * {@link checkProcessJson}; InvalidArgumentError when it cannot be made (a cycle, a bigint) or is
 * longer than {@link MAX_PROCESS_JSON_BYTES}. Used by the engine before it stores a value and by
 * the client before it sends one.
 */
export function processJsonText(value: unknown, where: string): string | undefined {
  checkProcessJson(value, where)
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new InvalidArgumentError(`${where} must be JSON-serialisable: ${(err as Error).message}`)
  }
  // The walk's count is a lower bound (it skips what a toJSON makes): the text itself decides.
  if (text !== undefined && !fitsUtf8(text, MAX_PROCESS_JSON_BYTES)) throw tooLarge(where)
  return text
}

function tooLarge(where: string): InvalidArgumentError {
  return new InvalidArgumentError(`${where} is more than ${MAX_PROCESS_JSON_BYTES} bytes as JSON, the limit of progress and journal state: record how far the work got, and keep its data in kv, a table or the store; nothing was written`)
}

/**
 * Characters of JSON text the values seen so far take at least. The walk gives up as soon as it
 * passes the limit, so a huge array or string costs no more than a value at the limit, and no
 * JSON text of it is ever made.
 */
interface Count {
  chars: number
  top: string
}

function add(count: Count, chars: number): void {
  count.chars += chars
  if (count.chars > MAX_PROCESS_JSON_BYTES) throw tooLarge(count.top)
}

function walk(v: unknown, where: string, depth: number, seen: Set<object>, count: Count): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(`${where} is ${String(v)}, which JSON stores as null: store a finite number, a string or null instead; nothing was written`)
    add(count, 1)
    return
  }
  // Its quotes; escapes and multi-byte characters only add to it (the text is measured after).
  if (typeof v === 'string') return add(count, v.length + 2)
  if (typeof v !== 'object' || v === null) return add(count, 1)
  // Deeper than this, or a cycle: JSON.stringify's own error (or success) decides.
  if (depth > 512 || seen.has(v)) return
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return
  if (v instanceof Map || v instanceof Set || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    const kind = v instanceof Map ? 'a Map' : v instanceof Set ? 'a Set' : ArrayBuffer.isView(v) ? `a ${v.constructor.name}` : 'an ArrayBuffer'
    throw new InvalidArgumentError(`${where} is ${kind}, which JSON would store as ${ArrayBuffer.isView(v) && !(v instanceof DataView) ? 'an object of indexes' : '{}'}: convert it (an array, an object) first; nothing was written`)
  }
  seen.add(v)
  // Brackets or braces, and a comma or colon and quoted key per member.
  add(count, 2)
  if (Array.isArray(v)) {
    // A plain loop, not forEach: forEach skips holes, which JSON writes as null.
    for (let i = 0; i < v.length; i++) {
      add(count, i === 0 ? 0 : 1)
      walk(v[i], `${where}[${i}]`, depth + 1, seen, count)
    }
  } else {
    for (const [k, x] of Object.entries(v)) {
      // A member whose value JSON leaves out (undefined, a function) is not counted.
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue
      add(count, k.length + 3)
      walk(x, `${where}.${k}`, depth + 1, seen, count)
    }
  }
  seen.delete(v)
}
