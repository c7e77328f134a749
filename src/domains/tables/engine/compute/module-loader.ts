import { InvalidArgumentError } from '../../../../errors/errors.js'
import { quote } from '../../../../codec/checks.js'
import type { CodeModuleNamespace } from './compute-types.js'
import { sha256Hex } from './fingerprint.js'

/**
 * Code modules: ES modules stored as source text, imported only when a builder runs. On Node the
 * text is imported through a `data:` URL; in a browser (the vault's worker) through a blob URL,
 * revoked once the import settles. Either way there is no folder or package around the module, so
 * its own `import` of a bare specifier or a relative path cannot resolve: a builder's function gets
 * what it needs as arguments and from its context (`ctx.arrow`, compute-types.ts).
 *
 * Trust: the module runs with every privilege of the page, worker or process that executes it.
 */

/**
 * A loaded code module. The namespace is held in an object, never handed over bare: a namespace is
 * a thenable when the module exports a function named `then` (a builder may well be called that),
 * and resolving a promise with it calls that export instead (with resolve and reject, which a
 * builder function never calls): `import()` of it, or an async function returning it, never settles.
 */
export interface LoadedCodeModule {
  readonly namespace: CodeModuleNamespace
}

// By the source's hash: a realm imports a given text once (an import cannot be undone), so
// executing the same text again reuses the loaded module, state included.
const loaded = new Map<string, Promise<LoadedCodeModule>>()

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process
  return typeof p?.versions?.node === 'string'
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

// The specifier is a variable: bundlers leave such an import() alone instead of resolving it.
const dynamicImport = (url: string): Promise<{ ns: CodeModuleNamespace }> => import(/* @vite-ignore */ url) as Promise<{ ns: CodeModuleNamespace }>

/**
 * The module is imported through a wrapper that re-exports its namespace as `ns` (see
 * {@link LoadedCodeModule}): the wrapper's own namespace has no `then`, so its import settles.
 */
const wrapper = (url: string): string => `export * as ns from ${JSON.stringify(url)}\n`

async function importSource(source: string): Promise<LoadedCodeModule> {
  if (isNode() || typeof URL.createObjectURL !== 'function') {
    const url = `data:text/javascript;base64,${base64(source)}`
    return { namespace: (await dynamicImport(`data:text/javascript;base64,${base64(wrapper(url))}`)).ns }
  }
  const blob = (text: string): string => URL.createObjectURL(new Blob([text], { type: 'text/javascript' }))
  const url = blob(source)
  const outer = blob(wrapper(url))
  try {
    return { namespace: (await dynamicImport(outer)).ns }
  } finally {
    URL.revokeObjectURL(outer)
    URL.revokeObjectURL(url)
  }
}

function explain(name: string, err: unknown): InvalidArgumentError {
  const msg = err instanceof Error ? err.message : String(err)
  const unresolved = /resolve|specifier|Cannot find|Invalid URL|relative|Failed to fetch|not a valid URL|ERR_UNSUPPORTED/i.test(msg)
  const hint = unresolved
    ? " (a code module cannot import packages or relative paths: its builder's function receives what it needs as arguments, and ctx.arrow)"
    : ''
  return new InvalidArgumentError(`code module ${quote(name)} cannot be loaded: ${msg}${hint}`, { cause: err })
}

/**
 * Import a code module from its source text (loaded once per realm per text): its namespace, held
 * in an object (see {@link LoadedCodeModule}). InvalidArgumentError naming the module when it does
 * not parse or its imports do not resolve.
 */
export async function loadCodeModule(name: string, source: string): Promise<LoadedCodeModule> {
  if (typeof source !== 'string') throw new InvalidArgumentError(`code module ${quote(name)}: the source must be a string`)
  const key = await sha256Hex(source)
  let p = loaded.get(key)
  if (!p) {
    p = importSource(source)
    loaded.set(key, p)
    p.catch(() => loaded.delete(key))
  }
  try {
    return await p
  } catch (err) {
    throw explain(name, err)
  }
}

/** The function `exportName` of a loaded module; InvalidArgumentError naming the builder otherwise. */
export function exportedFunction(ns: CodeModuleNamespace, module: string, exportName: string, builder: string): (...args: unknown[]) => unknown {
  const f = Object.hasOwn(ns, exportName) ? ns[exportName] : undefined
  if (typeof f !== 'function') {
    const fns = Object.keys(ns).filter((k) => typeof ns[k] === 'function')
    throw new InvalidArgumentError(`builder ${quote(builder)}: code module ${quote(module)} has no exported function ${quote(exportName)} (its functions: ${fns.length ? fns.join(', ') : 'none'})`)
  }
  return f as (...args: unknown[]) => unknown
}
