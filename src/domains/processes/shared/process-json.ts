import { InvalidArgumentError } from '../../../errors/errors.js'

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
  walk(value, where, 0, new Set())
}

function walk(v: unknown, where: string, depth: number, seen: Set<object>): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(`${where} is ${String(v)}, which JSON stores as null: store a finite number, a string or null instead; nothing was written`)
    return
  }
  if (typeof v !== 'object' || v === null) return
  // Deeper than this, or a cycle: JSON.stringify's own error (or success) decides.
  if (depth > 512 || seen.has(v)) return
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return
  if (v instanceof Map || v instanceof Set || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    const kind = v instanceof Map ? 'a Map' : v instanceof Set ? 'a Set' : ArrayBuffer.isView(v) ? `a ${v.constructor.name}` : 'an ArrayBuffer'
    throw new InvalidArgumentError(`${where} is ${kind}, which JSON would store as ${ArrayBuffer.isView(v) && !(v instanceof DataView) ? 'an object of indexes' : '{}'}: convert it (an array, an object) first; nothing was written`)
  }
  seen.add(v)
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`, depth + 1, seen))
  else for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`, depth + 1, seen)
  seen.delete(v)
}
