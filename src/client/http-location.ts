import { InvalidArgumentError, NotFoundError, UnsupportedError } from '../errors/errors.js'
import { validateVaultName } from '../protocol/vault-name.js'
import { fail, type OpenVaultOptions } from './options.js'
import { byteCount, duration } from './open-options.js'

/** Where a vault served over HTTP is: the folder above it (the adapter's root) and its name. */
export interface HttpVaultLocation {
  /** The vault folder's URL, ending with `/`. */
  url: string
  /** The URL of the folder holding the vault folder (the HttpAdapter's root). */
  root: string
  /** The vault's name: the last segment of the URL's path, percent-decoded. */
  name: string
}

/**
 * Read `openVault(url, { storage: 'http' })`'s first argument: the URL of a vault folder on a
 * static host (`https://example.org/vaults/lab/`, with or without the final `/`). Its last path
 * segment is the vault's name (it must be a valid vault name); relative URLs are resolved against
 * `base` (the page's address in a browser; Node has none, so it needs an absolute URL). A query
 * or fragment is refused: file names are appended to the path.
 */
export function httpVaultLocation(url: unknown, base?: string): HttpVaultLocation {
  if (typeof url !== 'string' || url.length === 0) throw new InvalidArgumentError('with storage "http", the first argument of openVault must be the URL of a vault folder (a non-empty string)')
  let parsed: URL
  try {
    parsed = new URL(url, base)
  } catch {
    throw new InvalidArgumentError(`with storage "http", ${JSON.stringify(url)} is not ${base === undefined ? 'an absolute URL (http: or https:)' : 'a valid URL'}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidArgumentError(`with storage "http", the vault URL must be http: or https:, got ${parsed.protocol} (${JSON.stringify(url)})`)
  if (parsed.search || parsed.hash) throw new InvalidArgumentError(`the vault URL ${JSON.stringify(url)} must not have a query or fragment: the vault's file names are appended to its path`)
  if (parsed.username || parsed.password) throw new InvalidArgumentError(`the vault URL ${JSON.stringify(url)} must not hold credentials`)
  const path = parsed.pathname.replace(/\/+$/, '')
  const cut = path.lastIndexOf('/')
  const segment = path.slice(cut + 1)
  if (segment === '') throw new InvalidArgumentError(`the vault URL ${JSON.stringify(url)} names no folder: its path must end with the vault's folder, e.g. https://example.org/vaults/lab/`)
  let name: string
  try {
    name = decodeURIComponent(segment)
  } catch {
    throw new InvalidArgumentError(`the vault URL ${JSON.stringify(url)} ends with a malformed percent-encoding (${segment})`)
  }
  try {
    validateVaultName(name)
  } catch (err) {
    throw new InvalidArgumentError(`the last segment of the vault URL ${JSON.stringify(url)} is the vault's name: ${(err as Error).message}`)
  }
  const root = `${parsed.origin}${path.slice(0, cut + 1)}`
  return { url: `${root}${segment}/`, root, name }
}

/**
 * The `http` option's shape (checked here, with the feature, not on every page: src/client/options.ts),
 * and options of openVault that a read-only vault over HTTP cannot honour: refused, not ignored.
 */
export function checkHttpOptions(options: OpenVaultOptions): void {
  const http: unknown = options.http
  if (http !== undefined) {
    if (typeof http !== 'object' || http === null || Array.isArray(http)) fail('http', 'an object { timeoutMs, cacheBytes }', http)
    for (const [key, value] of Object.entries(http)) {
      if (key === 'timeoutMs') {
        if (value !== undefined) duration(1)(value, 'http.timeoutMs')
      } else if (key === 'cacheBytes') {
        if (value !== undefined) byteCount(value, 'http.cacheBytes')
      } else throw new InvalidArgumentError(`unknown option "http.${key}" of openVault (known: timeoutMs, cacheBytes)`)
    }
  }
  if (options.readOnly === false) throw new InvalidArgumentError('storage "http" is read-only: option "readOnly" cannot be false')
  if (options.create === true) throw new InvalidArgumentError('storage "http" is read-only: option "create" cannot be true (a vault is created elsewhere and copied to the host)')
  if (options.restart === true) throw new InvalidArgumentError('storage "http" is read-only: option "restart" cannot be true (recovering crashed processes writes)')
  if (options.repair === true) throw new InvalidArgumentError('storage "http" is read-only: option "repair" cannot be true (repair the vault where it was written, then copy it again)')
}

/** The NotFoundError of an http vault that is not there, naming its URL (for a clearer message than the engine's). */
export function httpNotFound(location: HttpVaultLocation, err: unknown): unknown {
  if (!(err instanceof NotFoundError) && (err as { code?: string })?.code !== 'NOT_FOUND') return err
  return new NotFoundError(`no vault at ${location.url}: neither manifest-0 nor manifest-1 is there (copy the whole vault folder, as docs/http-storage.md shows)`, { cause: err })
}

/** listVaults and deleteVault cannot work on a static host. */
export function httpLocationUnsupported(call: 'listVaults' | 'deleteVault'): UnsupportedError {
  return new UnsupportedError(
    call === 'listVaults' ? 'listVaults: a static HTTP host cannot list its folders; open a vault by its URL with openVault(url, { storage: "http" })' : 'deleteVault: storage "http" is read-only',
  )
}
