import { CorruptionError, InvalidArgumentError, NetworkError, NotFoundError, UnsupportedError } from '../errors/errors.js'
import { pathSegments, type StorageAdapter } from './storage-adapter.js'

/** Options of {@link HttpAdapter}. */
export interface HttpAdapterOptions {
  /**
   * How long to wait for an answer, then for each piece of its body, before the request fails with
   * NetworkError (a slow but steady download of a large file is not cut). Default 30 s.
   */
  timeoutMs?: number
  /** Bytes of file content kept in memory between reads (least recently used goes first). Default 64 MiB. */
  cacheBytes?: number
  /**
   * Which files' bytes may be cached. Default: every file. A vault's opener passes "blobs only": the
   * image and the log are read once at open, and caching them would only hold memory.
   */
  cacheable?: (path: string) => boolean
}

/** Statuses of a host that refuses HEAD (Method Not Allowed, Forbidden, Not Implemented) while it serves GET. */
const HEAD_REFUSED = new Set([403, 405, 501])

const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024

/**
 * Read-only storage over HTTP: the files of vault folders as a static host serves them (a vault
 * folder copied from a Node `fs` vault, or an unzipped `exportVault` archive; docs/http-storage.md).
 *
 * - `read` is a plain GET; `readRange` a GET with a `Range` header. A server that ignores Range
 *   answers 200 with the whole file: the adapter slices it (and caches it when it fits), so any
 *   static host works, only less lazily.
 * - Files do not change while a vault is open from a static host, so the bytes read are cached
 *   (bounded by `cacheBytes`); the cache hands out copies, since callers may transfer or modify them.
 * - 404 is a missing file (`read` → undefined, `size` → undefined, `readRange` → NotFoundError);
 *   any other failure, a network error or a host silent for `timeoutMs` is a NetworkError
 *   naming the URL and the status.
 * - A static host cannot list a folder: `list` rejects with UnsupportedError and {@link listable}
 *   is false, so the engine derives the files it needs from the vault's manifest instead.
 * - Every write rejects with UnsupportedError.
 */
export class HttpAdapter implements StorageAdapter {
  readonly kind: string = 'http'
  /** A static host cannot list folders (see StorageAdapter.listable). */
  readonly listable = false
  /** The URL every path is relative to (ends with `/`). */
  readonly root: string
  private readonly timeoutMs: number
  private readonly cache: ByteCache
  private readonly cacheable: (path: string) => boolean
  /** Requests in flight by key: two readers of the same bytes share one request. */
  private readonly inFlight = new Map<string, Promise<unknown>>()
  private closed = false
  /** The host answered a HEAD with one of {@link HEAD_REFUSED}: sizes are asked with a GET of one byte. */
  private headRefused = false

  constructor(root: string | URL, options: HttpAdapterOptions = {}) {
    let url: URL
    try {
      // In a page (or worker) a relative root is relative to its address, as fetch would take it.
      url = new URL(String(root), globalThis.location?.href)
    } catch {
      throw new InvalidArgumentError(`HttpAdapter: ${JSON.stringify(String(root))} is not ${globalThis.location ? 'a valid URL' : 'an absolute URL'}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`HttpAdapter: the URL must be http: or https:, got ${url.protocol}`)
    if (url.search || url.hash) throw new InvalidArgumentError(`HttpAdapter: the URL ${url.href} must not have a query or fragment (file names are appended to it)`)
    this.root = url.href.endsWith('/') ? url.href : url.href + '/'
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 2 ** 31 - 1) {
      throw new InvalidArgumentError(`HttpAdapter: timeoutMs must be a number of milliseconds from 1 to ${2 ** 31 - 1}, got ${String(timeoutMs)}`)
    }
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES
    if (typeof cacheBytes !== 'number' || !Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new InvalidArgumentError(`HttpAdapter: cacheBytes must be a whole number of bytes (0 or more), got ${String(cacheBytes)}`)
    }
    this.timeoutMs = timeoutMs
    this.cache = new ByteCache(cacheBytes)
    this.cacheable = options.cacheable ?? (() => true)
  }

  /** The URL of a path under the root (each segment percent-encoded). */
  urlOf(path: string): string {
    return this.root + pathSegments(path).map(encodeURIComponent).join('/')
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const url = this.urlOf(path)
    const cached = this.cache.get(path)
    if (cached) return cached.slice()
    const bytes = await this.shared(`GET ${path}`, async () => {
      const answer = await this.request(url, 'GET')
      if (answer.res.status === 404) return answer.discard(undefined)
      if (answer.res.status !== 200) throw await failed(answer, 'GET', url)
      const body = await answer.body()
      if (this.cacheable(path)) this.cache.set(path, body)
      return body
    })
    return bytes?.slice()
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgumentError(`readRange: offset and length must be whole numbers (0 or more), got ${offset} and ${length}`)
    }
    const url = this.urlOf(path)
    const whole = this.cache.get(path)
    if (whole) return whole.slice(Math.min(offset, whole.length), Math.min(whole.length, offset + length))
    const rangeKey = `${path}#${offset}+${length}`
    const hit = this.cache.get(rangeKey)
    if (hit) return hit.slice()
    if (length === 0) {
      // "bytes=a-(a-1)" is not a valid range: ask whether the file exists instead.
      if ((await this.size(path)) === undefined) throw new NotFoundError(`no file at ${url}`)
      return new Uint8Array(0)
    }
    const bytes = await this.shared(`RANGE ${rangeKey}`, async () => {
      const answer = await this.request(url, 'GET', { Range: `bytes=${offset}-${offset + length - 1}` })
      const res = answer.res
      if (res.status === 404) throw await answer.discard(new NotFoundError(`no file at ${url}`))
      // Not satisfiable: the range starts at or past the end of a file that exists.
      if (res.status === 416) return answer.discard(new Uint8Array(0))
      if (res.status === 206) {
        // Another origin may not expose Content-Range (CORS): then the 206 is taken as the answer
        // to the one range asked for. When it is visible, it must be that range.
        const contentRange = res.headers.get('content-range')
        const start = contentRange === null ? undefined : /^bytes (\d+)-/.exec(contentRange)
        if (start === null || (start !== undefined && Number(start[1]) !== offset)) {
          await answer.discard(undefined)
          throw new NetworkError(`GET ${url} (Range bytes=${offset}-${offset + length - 1}) answered 206 for another range (${res.headers.get('content-range') ?? 'no Content-Range'})`)
        }
        const body = (await answer.body()).subarray(0, length)
        if (this.cacheable(path)) this.cache.set(rangeKey, body)
        return body
      }
      if (res.status !== 200) throw await failed(answer, 'GET', url)
      // The server ignores Range and sent the whole file: keep it (when it fits) and slice it.
      const file = await answer.body()
      await checkBlobContent(path, url, file)
      if (this.cacheable(path)) this.cache.set(path, file)
      return file.slice(Math.min(offset, file.length), Math.min(file.length, offset + length))
    })
    return bytes.slice()
  }

  async size(path: string): Promise<number | undefined> {
    const url = this.urlOf(path)
    const cached = this.cache.get(path)
    if (cached) return cached.length
    return this.shared(`HEAD ${path}`, async () => {
      if (this.headRefused) return this.sizeByGet(path, url)
      const answer = await this.request(url, 'HEAD')
      if (answer.res.status === 404) return answer.discard(undefined)
      if (HEAD_REFUSED.has(answer.res.status)) {
        // Some static hosts (signed-URL buckets, minimal servers) refuse HEAD but serve GET:
        // info() failed there with NetworkError. Ask with a GET instead, from now on.
        await answer.discard(undefined)
        this.headRefused = true
        return this.sizeByGet(path, url)
      }
      if (answer.res.status !== 200) throw await failed(answer, 'HEAD', url)
      await answer.discard(undefined)
      const length = Number(answer.res.headers.get('content-length') ?? NaN)
      if (Number.isSafeInteger(length) && length >= 0) return length
      // No length in the headers (a compressed or chunked answer): count the bytes themselves.
      return (await this.read(path))?.length
    })
  }

  /**
   * A file's size without HEAD: a GET of its first byte (`Range: bytes=0-0`), whose Content-Range
   * (`bytes 0-0/<size>`) says the size. A host that ignores Range answers 200 with the whole file:
   * its Content-Length says it (the body is dropped), else its bytes are counted. Where the
   * Content-Range is not readable (another origin that does not expose it), the whole file is read.
   */
  private async sizeByGet(path: string, url: string): Promise<number | undefined> {
    const answer = await this.request(url, 'GET', { Range: 'bytes=0-0' })
    const res = answer.res
    if (res.status === 404) return answer.discard(undefined)
    // Not satisfiable: even byte 0 is past the end, so the file is empty.
    if (res.status === 416) return answer.discard(0)
    if (res.status === 206) {
      await answer.discard(undefined)
      const total = /^bytes \d+-\d+\/(\d+)$/.exec(res.headers.get('content-range') ?? '')
      if (total) return Number(total[1])
      return (await this.read(path))?.length
    }
    if (res.status !== 200) throw await failed(answer, 'GET', url)
    const length = Number(res.headers.get('content-length') ?? NaN)
    if (Number.isSafeInteger(length) && length >= 0) return answer.discard(length)
    const body = await answer.body()
    if (this.cacheable(path)) this.cache.set(path, body)
    return body.length
  }

  async write(path: string): Promise<void> {
    throw this.readOnly('write', path)
  }

  async append(path: string): Promise<number> {
    throw this.readOnly('append to', path)
  }

  async truncate(path: string): Promise<void> {
    throw this.readOnly('truncate', path)
  }

  /** Nothing is ever written, so there is nothing to flush. */
  async sync(path: string): Promise<void> {
    pathSegments(path)
  }

  async remove(path: string): Promise<void> {
    throw this.readOnly('remove', path)
  }

  async list(folder: string): Promise<string[]> {
    throw new UnsupportedError(`a static HTTP host cannot list folders (${this.urlOf(folder)}); http storage reads only the files a vault's manifest names`)
  }

  async close(): Promise<void> {
    this.closed = true
    this.cache.clear()
  }

  private readOnly(what: string, path: string): UnsupportedError {
    return new UnsupportedError(`http storage is read-only: cannot ${what} ${this.urlOf(path)}`)
  }

  private shared<T>(key: string, run: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key)
    if (running) return running as Promise<T>
    const p = run().finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, p)
    return p
  }

  /**
   * One request. `timeoutMs` bounds each wait, not the whole transfer: the answer's headers, then
   * each piece of its body, must come within it, so a large image on a slow link still loads while
   * a host that stops sending fails instead of hanging.
   */
  private async request(url: string, method: 'GET' | 'HEAD', headers?: Record<string, string>): Promise<Answer> {
    if (this.closed) throw new UnsupportedError(`the http storage of ${this.root} is closed`)
    const controller = new AbortController()
    const timeoutMs = this.timeoutMs
    let timer: ReturnType<typeof setTimeout> | undefined
    const kick = () => {
      clearTimeout(timer)
      timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
    }
    const stop = () => clearTimeout(timer)
    kick()
    let res: Response | undefined
    for (let attempt = 1; !res; attempt++) {
      try {
        // no-store: the adapter caches itself; the browser's cache must not mix files of two deployments.
        res = await fetch(url, { method, headers, signal: controller.signal, cache: 'no-store', redirect: 'follow' })
      } catch (err) {
        // A connection the host closed while it sat idle in the pool fails at once (ECONNRESET in
        // Node's fetch): these requests only read, so one more try on a fresh connection is safe.
        if (attempt < 2 && !controller.signal.aborted) continue
        stop()
        throw networkFailure(err, method, url, timeoutMs)
      }
    }
    return {
      res,
      async body() {
        try {
          return await readBody(res, kick)
        } catch (err) {
          throw networkFailure(err, method, url, timeoutMs)
        } finally {
          stop()
        }
      },
      async discard<T>(value: T): Promise<T> {
        stop()
        await res.body?.cancel().catch(() => {})
        return value
      },
    }
  }
}

/** An answer whose body is either read ({@link body}) or dropped ({@link discard}): either stops its timer. */
interface Answer {
  res: Response
  body(): Promise<Uint8Array>
  discard<T>(value: T): Promise<T>
}

/** The whole body, calling `progress` at each piece (the timeout counts from the last one). */
async function readBody(res: Response, progress: () => void): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer())
  const reader = res.body.getReader()
  const declared = Number(res.headers.get('content-length') ?? NaN)
  // One buffer when the length is known (the usual case for static files), else pieces joined.
  let out = new Uint8Array(Number.isSafeInteger(declared) && declared >= 0 ? declared : 64 * 1024)
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    progress()
    if (length + value.length > out.length) {
      const grown = new Uint8Array(Math.max(out.length * 2, length + value.length))
      grown.set(out.subarray(0, length))
      out = grown
    }
    out.set(value, length)
    length += value.length
  }
  return length === out.length ? out : out.slice(0, length)
}

function networkFailure(err: unknown, method: string, url: string, timeoutMs: number): NetworkError {
  const name = (err as { name?: string })?.name
  if (name === 'TimeoutError' || name === 'AbortError') return new NetworkError(`${method} ${url}: nothing received for ${timeoutMs} ms`, { cause: err })
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause
  const detail = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err)
  return new NetworkError(`${method} ${url} failed: ${detail}`, { cause: err })
}

async function failed(answer: Answer, method: string, url: string): Promise<NetworkError> {
  const res = await answer.discard(answer.res)
  return new NetworkError(`${method} ${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`)
}

/**
 * A blob's file in a vault folder (`<vault>/blobs/<hh>/<sha256>`, docs/format.md) is named by the
 * SHA-256 of its bytes. (The pattern is repeated here: storage sits below persistence's format.)
 */
const BLOB_FILE = /(?:^|\/)blobs\/([0-9a-f]{2})\/([0-9a-f]{64})$/

/**
 * A whole file that answered a Range request (status 200: a host that ignores Range) is checked
 * against its name when it is a blob's. The blob store verifies a blob's first read and then
 * trusts ranges of it, so a host answering a later Range request with another file (a fallback
 * page, a file replaced since) handed out slices of the wrong bytes as the blob's.
 */
async function checkBlobContent(path: string, url: string, bytes: Uint8Array): Promise<void> {
  const blob = BLOB_FILE.exec(path)
  if (!blob || !blob[2]!.startsWith(blob[1]!)) return
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  if (hex !== blob[2]) throw new CorruptionError(`GET ${url} (a Range request) answered 200 with ${bytes.length} bytes that are not this blob (their SHA-256 is not its name): the host serves another file there`)
}

/** Least-recently-used bytes under a byte budget; an entry larger than the budget is not kept. */
class ByteCache {
  private readonly entries = new Map<string, Uint8Array>()
  private bytes = 0

  constructor(private readonly budget: number) {}

  get(key: string): Uint8Array | undefined {
    const v = this.entries.get(key)
    if (v) {
      // Most recently used goes last: Map keeps insertion order.
      this.entries.delete(key)
      this.entries.set(key, v)
    }
    return v
  }

  set(key: string, value: Uint8Array): void {
    if (value.length > this.budget) return
    const old = this.entries.get(key)
    if (old) {
      this.bytes -= old.length
      this.entries.delete(key)
    }
    this.entries.set(key, value)
    this.bytes += value.length
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.budget) break
      this.entries.delete(k)
      this.bytes -= v.length
    }
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }
}
