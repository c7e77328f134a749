// Deterministic text embeddings for the run notes: hashed character trigrams, no model download.
// Texts that share many trigrams (words, word pieces) get close vectors; the same text always gets
// the same vector, on every machine.

/** The embedding dimension used by the demo's note vectors. */
export const EMBEDDING_DIM = 64

/** FNV-1a over a string's UTF-16 code units: a fast, stable 32-bit hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The embedding of `text`: counts of its lower-cased character trigrams (words padded with spaces)
 * hashed into `dim` buckets with a hashed sign, then scaled to unit length. The empty text (or one
 * without letters or digits) is the zero vector.
 */
export function embed(text: string, dim = EMBEDDING_DIM): Float32Array {
  const v = new Float32Array(dim)
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (word.length === 0) continue
    const padded = ` ${word} `
    for (let i = 0; i + 3 <= padded.length; i++) {
      const h = fnv1a(padded.slice(i, i + 3))
      v[h % dim]! += h & 0x80000000 ? -1 : 1
    }
  }
  let norm = 0
  for (const x of v) norm += x * x
  norm = Math.sqrt(norm)
  if (norm > 0) for (let i = 0; i < dim; i++) v[i]! /= norm
  return v
}

/** Cosine similarity of two vectors of the same length (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}
