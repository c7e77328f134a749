/**
 * The bytes of `parts` one after another, in a new array (`total`: their summed length, when the
 * caller already counted it). One part that fills `total` is returned as it is, not copied.
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const size = total ?? parts.reduce((n, p) => n + p.length, 0)
  if (parts.length === 1 && parts[0]!.length === size) return parts[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
