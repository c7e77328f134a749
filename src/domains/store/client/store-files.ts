// Writing an export to a path (Node). The client half runs in browsers too, so node:fs is reached by
// a dynamic import whose specifier bundlers do not follow, and only when a path is given.
import { InvalidArgumentError, UnsupportedError } from '../../../errors/errors.js'

/** Where an export goes instead of being returned (Node only). */
export interface ExportToPath {
  /** File to write; the extension (`.n4a`, `.json`, `.yaml`, `.parquet`) is added when it has none. */
  path: string
}

function onNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process
  return typeof p?.versions?.node === 'string'
}

/** The path with `extension` appended when its last segment has no extension (as nirs4all does). */
export function withExtension(path: string, extension: string): string {
  const last = path.split(/[\\/]/).pop() ?? ''
  return last.includes('.') && !last.startsWith('.') ? path : `${path}${extension}`
}

/** Checks an `{ path }` option; undefined when absent. */
export function exportPath(options: unknown, extension: string): string | undefined {
  if (options === undefined) return undefined
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object such as { path }')
  const path = (options as { path?: unknown }).path
  if (path === undefined) return undefined
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw new InvalidArgumentError(`path must be a non-empty string without NUL, got ${JSON.stringify(path)}`)
  if (!onNode()) throw new UnsupportedError('writing an export to a path works on Node only: in a browser, use the returned bytes (e.g. a Blob download)')
  return withExtension(path, extension)
}

/** Writes bytes or text to `path` (parent folders created) and returns the absolute path. */
export async function writeExport(path: string, data: Uint8Array | string): Promise<string> {
  const fsName = 'node:fs/promises'
  const pathName = 'node:path'
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises')
  const { dirname, resolve } = (await import(/* @vite-ignore */ pathName)) as typeof import('node:path')
  const absolute = resolve(path)
  await fs.mkdir(dirname(absolute), { recursive: true })
  await fs.writeFile(absolute, data)
  return absolute
}
