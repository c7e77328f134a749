/**
 * The one conformance suite every {@link StorageAdapter} passes: memory and node-fs under node:test
 * (test/node/storage-conformance.test.ts), OPFS and IndexedDB inside a real dedicated worker in
 * Chromium (test/browser/storage-conformance.spec.ts). It is written against the reference
 * MemoryAdapter and the contract in src/storage/storage-adapter.ts.
 *
 * Framework-free on purpose: no node:assert, no test runner, nothing but the adapter, so the very
 * same cases run in a browser worker. A case throws an Error to fail.
 */
import type { StorageAdapter } from '../../src/storage/storage-adapter.js'

/**
 * Opens an adapter over the case's own backing root. The root is empty at the first call of a case;
 * every later call opens the same root again, as a restarted program would (that is how persistence
 * across `close()` is checked). Cases close each adapter before making the next, because some
 * backends (OPFS) hold exclusive handles.
 */
export type MakeAdapter = () => Promise<StorageAdapter>

/** One named check of the contract. */
export interface StorageConformanceCase {
  /** Unique, human-readable: it names the failing case in test output. */
  name: string
  /** Resolves when the adapter conforms; rejects with an Error that says what differed. */
  run(make: MakeAdapter): Promise<void>
}

// ---- helpers --------------------------------------------------------------------------------------

/** Throw when `condition` is false (node:assert is unavailable in a browser worker). */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message)
}

/** Throw unless `actual` holds exactly the bytes of `expected`, naming the first difference. */
export function equalBytes(actual: Uint8Array | undefined, expected: Uint8Array, message: string): void {
  check(actual !== undefined, `${message}: got undefined, expected ${expected.length} bytes`)
  check(actual instanceof Uint8Array, `${message}: got ${Object.prototype.toString.call(actual)}, expected a Uint8Array`)
  if (actual.length !== expected.length) throw new Error(`${message}: got ${actual.length} bytes, expected ${expected.length}`)
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${message}: byte ${i} is ${actual[i]}, expected ${expected[i]}`)
  }
}

/** Throw unless two string arrays are equal, element by element. */
function equalList(actual: string[], expected: string[], message: string): void {
  check(JSON.stringify(actual) === JSON.stringify(expected), `${message}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
}

/** Await a promise that must reject; when `code` is given, the error must carry that labvault code. */
async function rejects(promise: Promise<unknown>, code: string | undefined, message: string): Promise<void> {
  let error: unknown
  try {
    await promise
  } catch (err) {
    error = err
  }
  check(error !== undefined, `${message}: resolved, expected a rejection`)
  if (code !== undefined) {
    const got = (error as { code?: unknown }).code
    check(got === code, `${message}: rejected with code ${String(got)} (${String(error)}), expected ${code}`)
  }
}

/**
 * Deterministic bytes that differ at every offset of a block-sized period, so a block written at the
 * wrong place or a range off by one shows up (a constant fill would hide both).
 */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const text = (s: string) => new TextEncoder().encode(s)

/** Run `body` with a freshly made adapter and close it afterwards, also when `body` fails. */
async function using<T>(make: MakeAdapter, body: (storage: StorageAdapter) => Promise<T>): Promise<T> {
  const storage = await make()
  try {
    return await body(storage)
  } finally {
    await storage.close()
  }
}

/** A case whose body gets one adapter, closed afterwards. */
function single(name: string, body: (storage: StorageAdapter) => Promise<void>): StorageConformanceCase {
  return { name, run: (make) => using(make, body) }
}

// Large enough to cross any block size an adapter is likely to pick (IndexedDB: 32 KiB, OPFS: none).
const KB = 1024

// ---- cases ----------------------------------------------------------------------------------------

/** Every case, in a stable order. Names are unique. */
export const storageConformanceCases: StorageConformanceCase[] = [
  single('missing file: read and size are undefined', async (s) => {
    check((await s.read('nope')) === undefined, 'read of a missing file')
    check((await s.size('nope')) === undefined, 'size of a missing file')
    check((await s.read('no/such/folder/file')) === undefined, 'read below a missing folder')
    check((await s.size('no/such/folder/file')) === undefined, 'size below a missing folder')
  }),

  single('missing file: readRange and truncate reject with NOT_FOUND', async (s) => {
    await rejects(s.readRange('nope', 0, 10), 'NOT_FOUND', 'readRange of a missing file')
    await rejects(s.readRange('no/such/file', 0, 0), 'NOT_FOUND', 'readRange of a file below a missing folder')
    await rejects(s.truncate('nope', 0), 'NOT_FOUND', 'truncate of a missing file')
    check((await s.size('nope')) === undefined, 'truncate must not create the file')
  }),

  single('missing file: sync, remove and list are quiet no-ops', async (s) => {
    await s.sync('nope')
    await s.sync('no/such/file')
    await s.remove('nope')
    await s.remove('no/such/folder')
    equalList(await s.list('no/such/folder'), [], 'list of a missing folder')
    equalList(await s.list(''), [], 'list of an empty root')
    check((await s.size('nope')) === undefined, 'sync must not create the file')
  }),

  single('write then read round-trips, at the root and in folders', async (s) => {
    const a = text('hello, vault')
    const b = pattern(1000, 2)
    await s.write('a.bin', a)
    await s.write('deep/er/b.bin', b)
    equalBytes(await s.read('a.bin'), a, 'read a.bin')
    equalBytes(await s.read('deep/er/b.bin'), b, 'read deep/er/b.bin')
    check((await s.size('a.bin')) === a.length, 'size of a.bin')
    check((await s.size('deep/er/b.bin')) === b.length, 'size of deep/er/b.bin')
  }),

  single('write of an empty file creates it', async (s) => {
    await s.write('empty', new Uint8Array(0))
    const got = await s.read('empty')
    check(got !== undefined, 'an empty file exists')
    equalBytes(got, new Uint8Array(0), 'read of an empty file')
    check((await s.size('empty')) === 0, 'size of an empty file')
    equalBytes(await s.readRange('empty', 0, 10), new Uint8Array(0), 'readRange of an empty file')
    equalList(await s.list(''), ['empty'], 'list shows the empty file')
  }),

  single('write replaces the whole file, longer or shorter', async (s) => {
    const long = pattern(100 * KB, 3)
    const short = text('short')
    await s.write('f', long)
    await s.write('f', short)
    equalBytes(await s.read('f'), short, 'a shorter write leaves nothing of the longer file')
    check((await s.size('f')) === short.length, 'size after a shorter write')
    await s.write('f', long)
    equalBytes(await s.read('f'), long, 'a longer write replaces the shorter file')
    await s.sync('f')
    await s.write('f', short)
    await s.sync('f')
    equalBytes(await s.read('f'), short, 'a shorter write after sync')
    equalBytes(await s.readRange('f', 0, 100 * KB), short, 'readRange after a shorter write')
  }),

  single('write and append copy the caller’s bytes; reads return copies', async (s) => {
    const data = pattern(300, 4)
    const keep = data.slice()
    await s.write('w', data)
    data.fill(0)
    equalBytes(await s.read('w'), keep, 'write must not keep a reference to the caller’s buffer')
    const more = pattern(200, 5)
    const keepMore = more.slice()
    await s.append('w', more)
    more.fill(0)
    equalBytes(await s.read('w'), concat(keep, keepMore), 'append must not keep a reference to the caller’s buffer')
    const got = (await s.read('w'))!
    got.fill(7)
    const range = await s.readRange('w', 0, 100)
    range.fill(7)
    equalBytes(await s.read('w'), concat(keep, keepMore), 'changing a returned buffer must not change the file')
  }),

  single('append creates a missing file and returns each new size', async (s) => {
    check((await s.append('log', text('abc'))) === 3, 'first append returns 3')
    check((await s.append('log', text('de'))) === 5, 'second append returns 5')
    check((await s.append('log', new Uint8Array(0))) === 5, 'an empty append returns the same size')
    check((await s.append('nested/dir/log', text('x'))) === 1, 'append creates folders too')
    equalBytes(await s.read('log'), text('abcde'), 'appended content')
    check((await s.size('log')) === 5, 'size after appends')
    check((await s.append('zero', new Uint8Array(0))) === 0, 'an empty append to a missing file returns 0')
    check((await s.size('zero')) === 0, 'an empty append creates an empty file')
  }),

  single('append after write continues at the end', async (s) => {
    const head = pattern(40 * KB + 7, 6)
    const tail = pattern(30 * KB + 3, 7)
    await s.write('f', head)
    check((await s.append('f', tail)) === head.length + tail.length, 'size returned by append after write')
    equalBytes(await s.read('f'), concat(head, tail), 'write + append content')
  }),

  {
    name: 'a large write (1 MB) reads back in ranges, truncates, appends and reopens',
    async run(make) {
      const image = pattern(1024 * KB + 3, 18)
      const more = pattern(70 * KB, 19)
      const expected = concat(image.subarray(0, 300 * KB + 1), more)
      await using(make, async (s) => {
        await s.write('image', image)
        equalBytes(await s.readRange('image', 255 * KB, 300 * KB), image.subarray(255 * KB, 555 * KB), 'a range across large blocks, unsynced')
        await s.sync('image')
        equalBytes(await s.read('image'), image, 'whole file after sync')
        equalBytes(await s.readRange('image', 1000 * KB, 100 * KB), image.subarray(1000 * KB), 'the end, short')
        await s.truncate('image', 300 * KB + 1)
        check((await s.append('image', more)) === expected.length, 'append after truncate')
        await s.sync('image')
      })
      await using(make, async (s) => {
        equalBytes(await s.read('image'), expected, 'after reopen')
      })
    },
  },

  single('readRange: inside, across, at and past the end', async (s) => {
    const data = pattern(10_000, 8)
    await s.write('r', data)
    equalBytes(await s.readRange('r', 0, 10), data.subarray(0, 10), 'head')
    equalBytes(await s.readRange('r', 1234, 4321), data.subarray(1234, 1234 + 4321), 'middle')
    equalBytes(await s.readRange('r', 9990, 100), data.subarray(9990), 'a range running past the end is short')
    equalBytes(await s.readRange('r', 10_000, 5), new Uint8Array(0), 'a range at the end is empty')
    equalBytes(await s.readRange('r', 20_000, 5), new Uint8Array(0), 'a range past the end is empty')
    equalBytes(await s.readRange('r', 50, 0), new Uint8Array(0), 'a zero-length range is empty')
    equalBytes(await s.readRange('r', 0, 10_000), data, 'the whole file')
  }),

  single('one large append (200 KB) crosses block boundaries', async (s) => {
    const first = pattern(1000, 9)
    const big = pattern(200 * KB, 10)
    await s.append('big', first)
    check((await s.append('big', big)) === first.length + big.length, 'size after the large append')
    const all = concat(first, big)
    equalBytes(await s.read('big'), all, 'whole content before sync')
    for (const [offset, length] of [[0, 70 * KB], [32 * KB - 10, 20], [64 * KB - 1, 3], [100 * KB, 100 * KB], [all.length - 5, 50]] as const) {
      equalBytes(await s.readRange('big', offset, length), all.subarray(offset, offset + length), `readRange(${offset}, ${length}) before sync`)
    }
    await s.sync('big')
    equalBytes(await s.read('big'), all, 'whole content after sync')
    equalBytes(await s.readRange('big', 65 * KB, 70 * KB), all.subarray(65 * KB, 135 * KB), 'readRange after sync')
  }),

  {
    name: 'many small appends of odd sizes, synced now and then, read across blocks and after reopen',
    async run(make) {
      const parts: Uint8Array[] = []
      let expectedSize = 0
      await using(make, async (s) => {
        for (let i = 0; i < 1500; i++) {
          const part = pattern(((i * 37) % 251) + 1, 100 + i)
          parts.push(part)
          expectedSize += part.length
          const size = await s.append('wal', part)
          if (size !== expectedSize) throw new Error(`append ${i} returned ${size}, expected ${expectedSize}`)
          if (i % 97 === 0) await s.sync('wal')
          if (i === 700) {
            // A read in the middle sees every buffered append.
            equalBytes(await s.read('wal'), concat(...parts), 'read in the middle of the appends')
          }
        }
        const all = concat(...parts)
        check(all.length > 150 * KB, 'the appends span several blocks')
        equalBytes(await s.readRange('wal', 30 * KB, 70 * KB), all.subarray(30 * KB, 100 * KB), 'a range spanning blocks, unsynced tail')
        await s.sync('wal')
        equalBytes(await s.readRange('wal', 63 * KB, 3 * KB), all.subarray(63 * KB, 66 * KB), 'a range across a 64 KiB boundary')
        equalBytes(await s.read('wal'), all, 'whole log after sync')
      })
      await using(make, async (s) => {
        const all = concat(...parts)
        check((await s.size('wal')) === all.length, 'size after reopen')
        equalBytes(await s.read('wal'), all, 'whole log after reopen')
        equalBytes(await s.readRange('wal', 31 * KB + 5, 40 * KB), all.subarray(31 * KB + 5, 71 * KB + 5), 'a range spanning blocks after reopen')
        // The reopened adapter appends after the last byte, not at a block boundary.
        const more = pattern(333, 9999)
        check((await s.append('wal', more)) === all.length + 333, 'append after reopen returns the new size')
        equalBytes(await s.readRange('wal', all.length - 10, 400), concat(all.subarray(all.length - 10), more), 'append after reopen lands at the end')
      })
    },
  },

  single('concurrent appends land in call order', async (s) => {
    const parts = Array.from({ length: 40 }, (_, i) => pattern(i * 13 + 1, 500 + i))
    await s.write('c', text('start'))
    const sizes = await Promise.all(parts.map((p) => s.append('c', p)))
    let expected = 5
    sizes.forEach((size, i) => {
      expected += parts[i]!.length
      check(size === expected, `concurrent append ${i} returned ${size}, expected ${expected}`)
    })
    equalBytes(await s.read('c'), concat(text('start'), ...parts), 'content of concurrent appends')
    const fresh = await Promise.all(parts.slice(0, 5).map((p) => s.append('c2', p)))
    check(fresh[4] === parts.slice(0, 5).reduce((n, p) => n + p.length, 0), 'concurrent appends that create the file')
    equalBytes(await s.read('c2'), concat(...parts.slice(0, 5)), 'content of concurrent creating appends')
  }),

  {
    name: 'changes made while a sync is in flight are kept',
    async run(make) {
      const parts = Array.from({ length: 30 }, (_, i) => pattern(((i * 911) % 3000) + 1, 700 + i))
      await using(make, async (s) => {
        const pending: Promise<unknown>[] = []
        for (const [i, part] of parts.entries()) {
          // Neither the appends nor the syncs are awaited one by one: they overlap.
          pending.push(s.append('f', part))
          if (i % 3 === 0) pending.push(s.sync('f'))
        }
        await Promise.all(pending)
        await s.sync('f')
        equalBytes(await s.read('f'), concat(...parts), 'content before reopen')
      })
      await using(make, async (s) => {
        equalBytes(await s.read('f'), concat(...parts), 'content after reopen')
      })
    },
  },

  single('truncate cuts, never grows, and later appends overwrite the cut bytes', async (s) => {
    const data = pattern(150 * KB, 11)
    await s.write('t', data)
    await s.truncate('t', 200 * KB)
    check((await s.size('t')) === data.length, 'truncate to a larger size must not grow the file')
    await s.truncate('t', data.length)
    check((await s.size('t')) === data.length, 'truncate to the same size changes nothing')
    await s.truncate('t', 70 * KB + 5)
    check((await s.size('t')) === 70 * KB + 5, 'size after truncate')
    equalBytes(await s.read('t'), data.subarray(0, 70 * KB + 5), 'content after truncate')
    const more = pattern(50 * KB, 12)
    check((await s.append('t', more)) === 120 * KB + 5, 'append after truncate')
    const expected = concat(data.subarray(0, 70 * KB + 5), more)
    equalBytes(await s.read('t'), expected, 'append after truncate replaces the cut bytes')
    await s.sync('t')
    equalBytes(await s.read('t'), expected, 'after sync')
    await s.truncate('t', 0)
    check((await s.size('t')) === 0, 'truncate to zero')
    equalBytes(await s.read('t'), new Uint8Array(0), 'a truncated-to-zero file still exists')
    await s.append('t', text('again'))
    equalBytes(await s.read('t'), text('again'), 'append after truncate to zero')
  }),

  {
    name: 'truncate and append survive sync and reopen',
    async run(make) {
      const data = pattern(130 * KB, 13)
      const more = pattern(10 * KB + 1, 14)
      await using(make, async (s) => {
        await s.append('t', data)
        await s.sync('t')
        await s.truncate('t', 33 * KB + 1)
        await s.append('t', more)
        await s.sync('t')
      })
      await using(make, async (s) => {
        const expected = concat(data.subarray(0, 33 * KB + 1), more)
        check((await s.size('t')) === expected.length, 'size after reopen')
        equalBytes(await s.read('t'), expected, 'content after reopen')
        await s.truncate('t', 1)
        await s.sync('t')
      })
      await using(make, async (s) => {
        equalBytes(await s.read('t'), data.subarray(0, 1), 'a one-byte file after the second reopen')
      })
    },
  },

  single('size follows writes, appends and truncates', async (s) => {
    await s.write('s', pattern(10, 15))
    check((await s.size('s')) === 10, 'after write')
    await s.append('s', pattern(5, 16))
    check((await s.size('s')) === 15, 'after append')
    await s.truncate('s', 3)
    check((await s.size('s')) === 3, 'after truncate')
    await s.write('s', new Uint8Array(0))
    check((await s.size('s')) === 0, 'after an empty write')
    await s.remove('s')
    check((await s.size('s')) === undefined, 'after remove')
  }),

  single('remove deletes a file, and the path can be used again', async (s) => {
    await s.write('dir/a', text('a'))
    await s.append('dir/b', text('b'))
    await s.sync('dir/b')
    await s.remove('dir/a')
    check((await s.read('dir/a')) === undefined, 'a removed file reads as undefined')
    check((await s.size('dir/a')) === undefined, 'a removed file has no size')
    equalList(await s.list('dir'), ['b'], 'list after removing one file')
    await s.remove('dir/b')
    check((await s.read('dir/b')) === undefined, 'an appended-to (open) file can be removed')
    await rejects(s.readRange('dir/b', 0, 1), 'NOT_FOUND', 'readRange of a removed file')
    check((await s.append('dir/b', text('new'))) === 3, 'append to a removed path starts a new file')
    equalBytes(await s.read('dir/b'), text('new'), 'the new file has only the new bytes')
    await s.write('dir/a', text('aa'))
    equalBytes(await s.read('dir/a'), text('aa'), 'write to a removed path')
  }),

  single('remove of a folder is recursive and only takes that folder', async (s) => {
    await s.write('a/b/c', text('c'))
    await s.write('a/d', text('d'))
    await s.append('a/b/e/f', text('f'))
    await s.write('ab/x', text('x')) // shares the prefix "a" but not the folder
    await s.write('a.txt', text('t'))
    await s.write('e', text('e'))
    await s.remove('a')
    for (const p of ['a/b/c', 'a/d', 'a/b/e/f']) check((await s.read(p)) === undefined, `${p} is gone with its folder`)
    equalBytes(await s.read('ab/x'), text('x'), 'a sibling folder with the same prefix stays')
    equalBytes(await s.read('a.txt'), text('t'), 'a sibling file with the same prefix stays')
    equalList(await s.list(''), ['a.txt', 'ab', 'e'], 'root after removing a folder')
    equalList(await s.list('a'), [], 'the removed folder lists nothing')
    await s.write('a/again', text('again'))
    equalBytes(await s.read('a/again'), text('again'), 'a removed folder can be filled again')
  }),

  single('remove of the root empties everything', async (s) => {
    await s.write('x', text('x'))
    await s.append('y/z', text('z'))
    await s.remove('')
    equalList(await s.list(''), [], 'root after remove("")')
    check((await s.read('x')) === undefined && (await s.read('y/z')) === undefined, 'files are gone')
    await s.write('x', text('x2'))
    equalBytes(await s.read('x'), text('x2'), 'the storage is usable afterwards')
  }),

  single('list gives sorted names of immediate children, files and folders alike', async (s) => {
    for (const p of ['b', 'a', 'a.txt', 'Z', '10', '9', 'dir/one', 'dir/two/three', 'dir/two/four', 'dir/5']) await s.write(p, text(p))
    equalList(await s.list(''), ['10', '9', 'Z', 'a', 'a.txt', 'b', 'dir'], 'root (code-unit order, each folder once)')
    equalList(await s.list('dir'), ['5', 'one', 'two'], 'a folder')
    equalList(await s.list('dir/two'), ['four', 'three'], 'a nested folder')
    equalList(await s.list('a.txt'), [], 'listing a file gives nothing')
    equalList(await s.list('di'), [], 'a name prefix is not a folder')
  }),

  single('list sees unsynced files and forgets folders emptied by remove', async (s) => {
    await s.append('f/unsynced', text('u'))
    equalList(await s.list('f'), ['unsynced'], 'a file created but never synced is listed')
    await s.write('g/h/only', text('o'))
    await s.sync('g/h/only')
    await s.remove('g/h/only')
    equalList(await s.list('g'), [], 'a folder whose last file was removed is not listed')
    equalList(await s.list(''), ['f'], 'nor its parent')
  }),

  {
    name: 'data persists across close and reopen',
    async run(make) {
      const image = pattern(90 * KB + 17, 17)
      await using(make, async (s) => {
        await s.write('vault/image-1', image)
        await s.sync('vault/image-1')
        await s.append('vault/log-1', text('one;'))
        await s.append('vault/log-1', text('two;'))
        await s.sync('vault/log-1')
        await s.write('vault/tmp', text('tmp'))
        await s.sync('vault/tmp')
        await s.remove('vault/tmp')
        await s.write('other/x', new Uint8Array(0))
        await s.sync('other/x')
      })
      await using(make, async (s) => {
        equalBytes(await s.read('vault/image-1'), image, 'image after reopen')
        equalBytes(await s.read('vault/log-1'), text('one;two;'), 'log after reopen')
        check((await s.read('vault/tmp')) === undefined, 'a removed file stays removed')
        check((await s.size('other/x')) === 0, 'an empty synced file survives')
        equalList(await s.list(''), ['other', 'vault'], 'root after reopen')
        equalList(await s.list('vault'), ['image-1', 'log-1'], 'folder after reopen')
        check((await s.append('vault/log-1', text('three;'))) === 14, 'append after reopen')
        await s.sync('vault/log-1')
      })
      await using(make, async (s) => {
        equalBytes(await s.read('vault/log-1'), text('one;two;three;'), 'log after the second reopen')
      })
    },
  },

  {
    // OPFS keeps small appends in memory until a sync (src/storage/opfs-adapter.ts); every call must
    // still see them exactly as if they were in the file.
    name: 'unsynced appends: read across them, truncate into them, write and remove over them, close keeps them',
    async run(make) {
      const base = pattern(1000, 21)
      const a = pattern(100, 22)
      const b = pattern(70, 23)
      await using(make, async (s) => {
        await s.write('log', base)
        await s.sync('log')
        check((await s.append('log', a)) === 1100, 'first unsynced append returns 1100')
        check((await s.append('log', b)) === 1170, 'second unsynced append returns 1170')
        check((await s.size('log')) === 1170, 'size counts unsynced appends')
        equalBytes(await s.readRange('log', 950, 200), concat(base.subarray(950), a, b.subarray(0, 50)), 'a range across synced and unsynced bytes')
        await s.truncate('log', 1050)
        check((await s.size('log')) === 1050, 'size after a truncate into unsynced appends')
        check((await s.append('log', b)) === 1120, 'append after a truncate into unsynced appends')
        equalBytes(await s.read('log'), concat(base, a.subarray(0, 50), b), 'content after a truncate into unsynced appends')
        await s.truncate('log', 900)
        check((await s.append('log', a)) === 1000, 'append after a truncate below the synced size')
        await s.sync('log')
        equalBytes(await s.read('log'), concat(base.subarray(0, 900), a), 'content after a truncate below the synced size')
        await s.append('log', b)
        await s.append('w', a)
        await s.write('w', b)
        check((await s.append('w', a)) === 170, 'append after a write over unsynced appends')
        equalBytes(await s.read('w'), concat(b, a), 'a write replaces unsynced appends')
        await s.append('gone', a)
        await s.remove('gone')
        check((await s.size('gone')) === undefined, 'a removed file with unsynced appends is gone')
        check((await s.append('gone', b)) === 70, 'a removed file starts empty again')
        await s.sync('gone')
        for (let i = 0; i < 300; i++) await s.append('many', pattern(333, 100 + i))
        check((await s.size('many')) === 300 * 333, 'size after many unsynced appends')
      })
      await using(make, async (s) => {
        equalBytes(await s.read('log'), concat(base.subarray(0, 900), a, b), 'unsynced appends kept by close')
        equalBytes(await s.read('gone'), b, 'a file removed and appended again')
        const many = (await s.read('many'))!
        check(many.length === 300 * 333, `many unsynced appends kept by close: ${many.length} bytes`)
        for (let i = 0; i < 300; i += 37) equalBytes(many.subarray(i * 333, (i + 1) * 333), pattern(333, 100 + i), `append ${i} of many`)
      })
    },
  },

  single('paths with "..", ".", empty segments or a leading "/" are rejected', async (s) => {
    const bad = ['..', '../escape', 'a/../b', './a', 'a/./b', '/abs', 'a//b', 'a/']
    for (const p of bad) {
      await rejects(s.read(p), 'INVALID_ARGUMENT', `read(${JSON.stringify(p)})`)
      await rejects(s.write(p, text('x')), 'INVALID_ARGUMENT', `write(${JSON.stringify(p)})`)
      await rejects(s.append(p, text('x')), 'INVALID_ARGUMENT', `append(${JSON.stringify(p)})`)
      await rejects(s.readRange(p, 0, 1), 'INVALID_ARGUMENT', `readRange(${JSON.stringify(p)})`)
      await rejects(s.truncate(p, 0), 'INVALID_ARGUMENT', `truncate(${JSON.stringify(p)})`)
      await rejects(s.size(p), 'INVALID_ARGUMENT', `size(${JSON.stringify(p)})`)
      await rejects(s.sync(p), 'INVALID_ARGUMENT', `sync(${JSON.stringify(p)})`)
      await rejects(s.remove(p), 'INVALID_ARGUMENT', `remove(${JSON.stringify(p)})`)
      await rejects(s.list(p), 'INVALID_ARGUMENT', `list(${JSON.stringify(p)})`)
    }
    equalList(await s.list(''), [], 'nothing was created by a rejected call')
  }),

  single('many files in one folder', async (s) => {
    const names = Array.from({ length: 150 }, (_, i) => `f${String(i).padStart(3, '0')}`)
    for (const [i, n] of names.entries()) await s.write(`many/${n}`, pattern(i + 1, i))
    equalList(await s.list('many'), names, 'all files listed')
    for (const [i, n] of names.entries()) equalBytes(await s.read(`many/${n}`), pattern(i + 1, i), `content of ${n}`)
    await s.remove('many')
    equalList(await s.list(''), [], 'folder removed')
  }),
]
