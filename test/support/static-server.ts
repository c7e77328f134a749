// A static file server for the http storage tests (test/node/http-storage.test.ts,
// test/browser/http-storage.spec.ts): serves a folder as a static host does, honouring Range or
// not, with CORS when asked, and records every request so tests can count what was downloaded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { join, normalize, resolve, sep } from 'node:path'
import type { AddressInfo } from 'node:net'

/** One request as the server saw it. */
export interface SeenRequest {
  method: string
  /** The path below the server's root, decoded. */
  path: string
  /** The Range header, when one was sent. */
  range?: string
  status: number
  /** Body bytes sent. */
  bytes: number
}

export interface StaticServerOptions {
  /** Answer `Range: bytes=a-b` with 206 (default true); false: always the whole file with 200. */
  range?: boolean
  /** Add CORS headers (and answer preflights) so a page of another origin may read. */
  cors?: boolean
  /** With `cors`: expose Content-Range and Content-Length to the page (default true; many CDNs do not). */
  expose?: boolean
  /** Answer every HEAD with this status (a host that refuses HEAD: 405, 403, 501), GET as usual. */
  refuseHead?: number
  /** Port to listen on; default 0 (any free port). */
  port?: number
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>/` */
  url: string
  requests: SeenRequest[]
  /** While set, requests whose path matches get no answer at all (a server that hangs). */
  hang: RegExp | undefined
  /** While set, requests whose path matches are answered with this status. */
  failWith: { match: RegExp; status: number } | undefined
  /**
   * While set, matching files are sent in `pieces` parts `everyMs` apart, or (`pieces: 0`) the
   * headers and half the body, then nothing more (a host that stops sending).
   */
  trickle: { match: RegExp; pieces: number; everyMs: number } | undefined
  close(): Promise<void>
}

/** Start a static server over `root`. */
export async function startStaticServer(root: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const base = resolve(root)
  const honourRange = options.range ?? true
  const hanging = new Set<ServerResponse>()
  const state: StaticServer = {
    url: '',
    requests: [],
    hang: undefined,
    failWith: undefined,
    trickle: undefined,
    close: () =>
      new Promise<void>((done) => {
        for (const res of hanging) res.destroy()
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      const seen: SeenRequest = { method: req.method ?? 'GET', path, range: req.headers.range, status: 0, bytes: 0 }
      const headers: Record<string, string> = { 'cache-control': 'no-store' }
      if (options.cors) {
        headers['access-control-allow-origin'] = '*'
        headers['access-control-allow-headers'] = 'range'
        if (options.expose ?? true) headers['access-control-expose-headers'] = 'content-range, content-length, accept-ranges'
      }
      const send = (status: number, body?: Uint8Array, extra: Record<string, string> = {}) => {
        seen.status = status
        seen.bytes = req.method === 'HEAD' ? 0 : (body?.length ?? 0)
        state.requests.push(seen)
        res.writeHead(status, { ...headers, ...extra, ...(body ? { 'content-length': String(body.length) } : {}) })
        res.end(req.method === 'HEAD' ? undefined : body)
      }
      if (req.method === 'OPTIONS') return send(204)
      if (req.method === 'HEAD' && options.refuseHead !== undefined) return send(options.refuseHead)
      if (state.hang?.test(path)) {
        hanging.add(res)
        return
      }
      if (state.failWith?.match.test(path)) return send(state.failWith.status, new TextEncoder().encode('failure injected by the test'))
      const file = normalize(join(base, path))
      if (file !== base && !file.startsWith(base + sep)) return send(404)
      let bytes: Uint8Array
      try {
        if (!(await stat(file)).isFile()) return send(404)
        bytes = await readFile(file)
      } catch {
        return send(404)
      }
      const type = { 'content-type': 'application/octet-stream', ...(honourRange ? { 'accept-ranges': 'bytes' } : {}) }
      const trickle = state.trickle
      if (trickle?.match.test(path) && req.method === 'GET') {
        seen.status = 200
        seen.bytes = bytes.length
        state.requests.push(seen)
        res.writeHead(200, { ...headers, ...type, 'content-length': String(bytes.length) })
        hanging.add(res)
        if (trickle.pieces === 0) {
          res.write(bytes.subarray(0, bytes.length >> 1))
          return
        }
        const size = Math.ceil(bytes.length / trickle.pieces)
        for (let at = 0; at < bytes.length; at += size) {
          res.write(bytes.subarray(at, at + size))
          await new Promise((r) => setTimeout(r, trickle.everyMs))
        }
        hanging.delete(res)
        res.end()
        return
      }
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
      if (!honourRange || !m) return send(200, bytes, type)
      const start = Number(m[1])
      const end = Math.min(m[2] === '' ? bytes.length - 1 : Number(m[2]), bytes.length - 1)
      if (start >= bytes.length) return send(416, undefined, { ...type, 'content-range': `bytes */${bytes.length}` })
      return send(206, bytes.subarray(start, end + 1), { ...type, 'content-range': `bytes ${start}-${end}/${bytes.length}` })
    })()
  })
  await new Promise<void>((ready) => server.listen(options.port ?? 0, '127.0.0.1', ready))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return state
}
