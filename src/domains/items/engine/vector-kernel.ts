import { VECTOR_KERNEL_WASM } from './vector-kernel-wasm.js'

/**
 * `dots(q, m, n, strideBytes, out)`: out[r] = Σ q[j]·row_r[j] over `n` rows of `strideBytes` (byte
 * offsets into the kernel's memory). `dots` works on float32 rows and writes float32; `dots8` on
 * int8 rows and writes int32.
 */
export type DotsFn = (q: number, m: number, n: number, strideBytes: number, out: number) => void

/** The kernel's two functions over one memory. */
export interface Kernel {
  dots: DotsFn
  dots8: DotsFn
}

let module: WebAssembly.Module | null | undefined

/**
 * The compiled SIMD kernel (wasm/vector-kernel.wasm), or null when this engine lacks WebAssembly
 * or its SIMD proposal: callers then fall back to a plain loop over the same memory.
 */
export function kernelModule(): WebAssembly.Module | null {
  if (module !== undefined) return module
  try {
    const bytes = base64Bytes(VECTOR_KERNEL_WASM)
    module = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null
  } catch {
    module = null
  }
  return module
}

/** Instantiate the kernel over `memory` (synchronous: the module is tiny and compiled once). */
export function instantiateKernel(memory: WebAssembly.Memory): Kernel | null {
  const m = kernelModule()
  if (!m) return null
  const instance = new WebAssembly.Instance(m, { env: { memory } })
  return { dots: instance.exports.dots as DotsFn, dots8: instance.exports.dots8 as DotsFn }
}

/** The same computation in plain JS (fallback, and the reference the tests compare with). */
export function dotsJs(f32: Float32Array, q: number, m: number, n: number, stride: number, out: number): void {
  // Offsets here are in floats, not bytes.
  for (let r = 0; r < n; r++) {
    let s = 0
    const base = m + r * stride
    for (let j = 0; j < stride; j++) s += f32[q + j]! * f32[base + j]!
    f32[out + r] = s
  }
}

function base64Bytes(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const s = atob(b64)
    const out = new Uint8Array(s.length)
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
    return out
  }
  const B = (globalThis as unknown as { Buffer: { from(s: string, e: string): Uint8Array } }).Buffer
  return new Uint8Array(B.from(b64, 'base64'))
}
