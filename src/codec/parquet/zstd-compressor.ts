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

async function load(source: ZstdWasmSource | undefined): Promise<typeof import('@bokuweb/zstd-wasm')> {
  const zstd = await import('@bokuweb/zstd-wasm')
  // On Node the package's build reads its own zstd.wasm from disk and takes no argument.
  if (onNode()) await zstd.init()
  else {
    const where = source === undefined ? besideThisModule() : source instanceof URL ? source.href : source
    // The web build's init forwards a string (fetched) or bytes (instantiated) to the wasm loader.
    await (zstd.init as unknown as (src: string | Uint8Array | ArrayBuffer) => Promise<void>)(where)
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
