// A tiny static file server for the demo, the browser tests and the benchmarks.
// Usage: node scripts/serve.mjs [--port 4173] [--root .] [--cors] [--no-range]
// --cors adds Access-Control-Allow-Origin: * so another origin can import the built package (CDN test).
// --cache-assets serves a bundler's content-hashed files (`assets/name-<hash>.js`, `.wasm`, `.css`) as a
// static host set up for them does: cached for a year, immutable (Vite's advice); anything else, and
// every file without the flag, is `no-store` (the tests rebuild files under the same names).
// Single-range requests (`Range: bytes=a-b`) are answered with 206, as static hosts do (a vault read
// over HTTP fetches parts of blobs that way); --no-range answers them with the whole file instead.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve } from 'node:path'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const port = Number(opt('--port', process.env.PORT ?? 4173))
const root = resolve(opt('--root', '.'))
const cors = args.includes('--cors')
const ranges = !args.includes('--no-range')
const cacheAssets = args.includes('--cache-assets')
/** A bundler's output named by its content (Vite: `assets/<name>-<8-char hash>.<ext>`). */
const hashedAsset = /\/assets\/[^/]+-[A-Za-z0-9_-]{8}\.(js|wasm|css)$/
const index = opt('--index', '/demo/dist/index.html')

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
  '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8',
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = decodeURIComponent(url.pathname)
    if (path === '/') {
      // Redirect rather than serve: the demo's assets are relative to its own folder.
      res.writeHead(302, { location: index })
      res.end()
      return
    }
    const file = normalize(join(root, path))
    if (!file.startsWith(root)) throw Object.assign(new Error('outside root'), { code: 'ENOENT' })
    const info = await stat(file)
    const body = await readFile(info.isDirectory() ? join(file, 'index.html') : file)
    const headers = { 'content-type': types[extname(info.isDirectory() ? 'index.html' : file)] ?? 'application/octet-stream', 'cache-control': cacheAssets && hashedAsset.test(path) ? 'public, max-age=31536000, immutable' : 'no-store' }
    if (cors) {
      headers['access-control-allow-origin'] = '*'
      headers['access-control-expose-headers'] = 'content-range, content-length, accept-ranges'
    }
    const range = ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null
    if (ranges) headers['accept-ranges'] = 'bytes'
    if (range) {
      const start = Number(range[1])
      const end = Math.min(range[2] === '' ? body.length - 1 : Number(range[2]), body.length - 1)
      if (start >= body.length) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` })
        res.end()
        return
      }
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': String(end - start + 1) })
      res.end(body.subarray(start, end + 1))
      return
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) })
    res.end(body)
  } catch (err) {
    res.writeHead(err?.code === 'ENOENT' ? 404 : 500, { 'content-type': 'text/plain' })
    res.end(String(err?.message ?? err))
  }
})
server.listen(port, '127.0.0.1', () => console.log(`labvault: serving ${root} at http://127.0.0.1:${port}/ (the demo: http://127.0.0.1:${port}${index})`))
