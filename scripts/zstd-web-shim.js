// Build-time stand-in for `@bokuweb/zstd-wasm` in labvault's browser bundles (scripts/build.mjs aliases
// the package to this file). The package's web entry names its wasm with a literal
// `new URL('./zstd.wasm', import.meta.url)`, which Vite's library mode inlines as a 250 KB base64 data
// URL even though labvault always passes the location itself. This entry exposes the same `init` and
// `compress` without that literal; the build ships zstd.wasm as a file (dist/browser/zstd.wasm).
import { Module, waitInitialized } from '../node_modules/@bokuweb/zstd-wasm/dist/web/module.js'

export { compress } from '../node_modules/@bokuweb/zstd-wasm/dist/web/simple/compress.js'

/** Loads the wasm from a URL (fetched) or from its bytes. */
export async function init(pathOrBytes) {
  Module.init(pathOrBytes)
  await waitInitialized()
}
