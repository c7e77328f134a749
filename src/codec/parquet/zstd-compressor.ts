// zstd compression for Parquet pages, from @bokuweb/zstd-wasm (zstd's C code built to wasm): there is
// no maintained pure-JS zstd *compressor* (fzstd, used for reading, only decompresses). The module is
// a singleton inside the package, so it is initialised once per JS realm.
import { UnsupportedError } from '../../errors/errors.js'
import type { ZstdWasmSource } from '../parquet.js'

/** A page compressor as hyparquet-writer calls it. */
export type Compressor = (input: Uint8Array) => Uint8Array

let loading: Promise<typeof import('@bokuweb/zstd-wasm')> | undefined

function onNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process
  return typeof p?.versions?.node === 'string'
}

/**
 * The wasm's default location in a browser: `zstd.wasm` beside this module's chunk (the build ships
 * it next to labvault.js). The name goes through a variable so that bundlers leave it alone rather
 * than inlining the wasm into the chunk as a data URL.
 */
function besideThisModule(): string {
  const file = 'zstd.wasm'
  return new URL(file, import.meta.url).href
}

/** How long instantiating the wasm may take before the write fails instead of hanging. */
const INIT_TIMEOUT_MS = 30_000

/**
 * The wasm's bytes, fetched here rather than by the package's loader: given a URL that does not
 * serve the wasm (a 404 page), that loader's promise never settles. Checked by the wasm magic.
 */
async function wasmBytes(source: ZstdWasmSource): Promise<Uint8Array> {
  let bytes: Uint8Array
  if (source instanceof Uint8Array) bytes = source
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source)
  else {
    const response = await fetch(source instanceof URL ? source.href : source, { credentials: 'same-origin' })
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim())
    bytes = new Uint8Array(await response.arrayBuffer())
  }
  if (!(bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) throw new Error('not a wasm module (no \\0asm magic)')
  return bytes
}

async function load(source: ZstdWasmSource | undefined): Promise<typeof import('@bokuweb/zstd-wasm')> {
  const zstd = await import('@bokuweb/zstd-wasm')
  // On Node the package's build reads its own zstd.wasm from disk and takes no argument.
  if (onNode()) await zstd.init()
  else {
    const bytes = await wasmBytes(source ?? besideThisModule())
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the wasm did not start within ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS)
    })
    try {
      // The web build's init (scripts/zstd-web-shim.js in labvault's bundles) instantiates bytes.
      await Promise.race([(zstd.init as unknown as (src: Uint8Array) => Promise<void>)(bytes), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
  return zstd
}

/** Loads zstd (once) and returns a compressor at `level`. */
export async function zstdCompressor(level: number, source?: ZstdWasmSource): Promise<Compressor> {
  loading ??= load(source)
  let zstd: typeof import('@bokuweb/zstd-wasm')
  try {
    zstd = await loading
  } catch (err) {
    loading = undefined // a later call may give a better location
    const where = source === undefined ? 'next to labvault\'s module' : String(source instanceof Uint8Array || source instanceof ArrayBuffer ? 'the bytes given' : source)
    throw new UnsupportedError(`zstd's wasm could not be loaded from ${where} (${err instanceof Error ? err.message : String(err)}); pass zstdWasm (or assetBase) to say where labvault's zstd.wasm is, or compression: 'snappy'`, { cause: err })
  }
  return (input) => zstd.compress(input, level)
}
