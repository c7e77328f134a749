/**
 * Runs the storage conformance suite against a browser adapter, wherever it is imported: in the
 * dedicated worker fixture (the only place OPFS sync access handles exist) and in the page itself
 * (IndexedDB must work in a window too). Kept outside fixtures/ so it is not bundled on its own.
 */
import { IndexedDbAdapter } from '../../src/storage/indexeddb-adapter.js'
import { OpfsAdapter } from '../../src/storage/opfs-adapter.js'
import type { StorageAdapter } from '../../src/storage/storage-adapter.js'
import { check, pattern, storageConformanceCases, type StorageConformanceCase } from '../conformance/storage-conformance.js'

/** Which adapter to test, and whether to measure instead. */
export interface ConformanceRequest {
  adapter: 'opfs' | 'indexeddb'
  /** Measure per-call costs instead of running the cases. */
  bench?: boolean
  /** IndexedDB block size for the benchmark. */
  blockSize?: number
}

/** The outcome of one case. */
export interface CaseResult {
  name: string
  ok: boolean
  error?: string
  ms: number
}

/** Milliseconds per operation, by operation name. */
export type BenchResult = Record<string, number>

/** A hung case must fail on its own, not stall the whole run until the test times out. */
const CASE_TIMEOUT_MS = 30_000

const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** Adapter-specific behaviour the generic suite cannot express. */
const extraCases: Record<ConformanceRequest['adapter'], StorageConformanceCase[]> = {
  opfs: [
    {
      name: 'opfs: a second adapter opening a file held by the first gets CONFLICT',
      async run(make) {
        const first = await make()
        const second = await make()
        try {
          await first.append('held', new Uint8Array([1, 2, 3]))
          let code: unknown
          try {
            await second.read('held')
          } catch (err) {
            code = (err as { code?: unknown }).code
          }
          check(code === 'CONFLICT', `expected CONFLICT from the second adapter, got ${String(code)}`)
        } finally {
          await first.close()
          await second.close()
        }
        const third = await make()
        try {
          check((await third.size('held')) === 3, 'the file opens again once the holder closed')
        } finally {
          await third.close()
        }
      },
    },
    {
      name: 'opfs: isSupported() is true in a dedicated worker',
      async run() {
        check(OpfsAdapter.isSupported(), 'OpfsAdapter.isSupported() returned false in a dedicated worker')
      },
    },
  ],
  indexeddb: [
    {
      name: 'indexeddb: truncate and rewrite delete the blocks they drop',
      async run(make) {
        const root = currentRoot
        const s = await make()
        try {
          await s.write('t', pattern(200_000, 1))
          await s.sync('t')
          await s.truncate('t', 10)
          await s.sync('t')
          check((await countBlocks(root)) === 1, `one block left after truncate, found ${await countBlocks(root)}`)
          await s.append('u', pattern(100_000, 2))
          await s.sync('u')
          await s.write('u', pattern(5, 3))
          await s.sync('u')
          check((await countBlocks(root)) === 2, `one block per file after a shorter write, found ${await countBlocks(root)}`)
          await s.remove('u')
          check((await countBlocks(root)) === 1, `remove deletes the blocks, found ${await countBlocks(root)}`)
        } finally {
          await s.close()
        }
      },
    },
    {
      name: 'indexeddb: a second adapter sees synced changes after size() revalidates',
      async run(make) {
        const writer = await make()
        const reader = await make()
        try {
          await writer.write('m', new Uint8Array([1, 1, 1]))
          await writer.sync('m')
          check((await reader.size('m')) === 3, 'reader sees the first version')
          await reader.read('m')
          await writer.write('m', new Uint8Array([2, 2, 2]))
          await writer.sync('m')
          check((await reader.size('m')) === 3, 'same size after the rewrite')
          const got = await reader.read('m')
          check(got?.[0] === 2, `reader sees the rewrite after size(), got ${String(got)}`)
          await writer.append('m', pattern(40_000, 3))
          await writer.sync('m')
          check((await reader.size('m')) === 40_003, 'reader sees the append after size()')
        } finally {
          await writer.close()
          await reader.close()
        }
      },
    },
  ],
}

/** The backing root of the case running now (the IndexedDB cases peek into the database). */
let currentRoot = ''

/** Rows in the adapter's block store, read with the raw API so the adapter's cache cannot answer. */
function countBlocks(dbName: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(dbName)
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const db = open.result
      const count = db.transaction('blocks').objectStore('blocks').count()
      count.onsuccess = () => {
        db.close()
        resolve(count.result)
      }
      count.onerror = () => reject(count.error)
    }
  })
}

function opener(request: ConformanceRequest, root: string): () => Promise<StorageAdapter> {
  return request.adapter === 'opfs' ? () => OpfsAdapter.open(root) : () => IndexedDbAdapter.open(root, { blockSize: request.blockSize })
}

async function cleanup(request: ConformanceRequest, root: string): Promise<void> {
  if (request.adapter === 'opfs') {
    const top = await navigator.storage.getDirectory()
    await top.removeEntry(root, { recursive: true }).catch(() => {})
  } else {
    await new Promise<void>((resolve) => {
      const req = indexedDB.deleteDatabase(root)
      req.onsuccess = req.onerror = req.onblocked = () => resolve()
    })
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Run every generic case and the adapter's own, each on a fresh root that is deleted afterwards. */
export async function runCases(request: ConformanceRequest): Promise<CaseResult[]> {
  const results: CaseResult[] = []
  const cases = [...storageConformanceCases, ...extraCases[request.adapter]]
  for (const [i, c] of cases.entries()) {
    const root = `conformance-${request.adapter}-${runId}-${i}`
    currentRoot = root
    const started = performance.now()
    let error: string | undefined
    try {
      await withTimeout(c.run(opener(request, root)), CASE_TIMEOUT_MS, c.name)
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err)
    }
    await cleanup(request, root)
    results.push({ name: c.name, ok: error === undefined, error, ms: Math.round(performance.now() - started) })
  }
  return results
}

/** Per-call costs of the operations a vault commit makes: append + sync of a small log record. */
export async function bench(request: ConformanceRequest): Promise<BenchResult> {
  const root = `bench-${request.adapter}-${runId}`
  const storage = await opener(request, root)()
  const out: BenchResult = {}
  const time = async (name: string, n: number, body: (i: number) => Promise<unknown>) => {
    const started = performance.now()
    for (let i = 0; i < n; i++) await body(i)
    out[name] = Number(((performance.now() - started) / n).toFixed(4))
  }
  try {
    const record = pattern(200, 1)
    await storage.append('log', record) // open the file first
    await storage.sync('log')
    await time('append 200 B', 2000, () => storage.append('log', record))
    await storage.sync('log')
    await time('append 200 B + sync', 300, async () => {
      await storage.append('log', record)
      await storage.sync('log')
    })
    const size = (await storage.size('log'))!
    await time('readRange 4 KB', 1000, (i) => storage.readRange('log', (i * 4096) % (size - 4096), 4096))
    const image = pattern(8 * 1024 * 1024, 2)
    await time('write 8 MB + sync', 3, async () => {
      await storage.write('image', image)
      await storage.sync('image')
    })
    await time('read 8 MB', 3, () => storage.read('image'))
  } finally {
    await storage.close()
    await cleanup(request, root)
  }
  return out
}
