import { concatBytes } from '../codec/bytes.js'
import { InvalidArgumentError, StoppedError } from '../errors/errors.js'
import type { DomainCaller } from '../protocol/domain-caller.js'
import type { ArchiveExportPiece, ArchiveExportStart, ArchiveLevel } from '../domains/archive/shared/archive-methods.js'
import { validateLocationOptions, type LocationOptions } from './options.js'
import { assetUrl } from './worker-port.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import type { ImportLimits } from '../persistence/archive-reader.js'

/**
 * exportVault / importVault's client half (docs/export-import.md): option checks, the pull loop
 * that turns the engine's zip pieces into bytes or a stream, and the push loop that feeds an
 * importer from bytes, a Blob or a stream. The entries (src/index.ts, src/node.ts) decide where the
 * engine and the importer run.
 */

/** How far an export or import is. */
export interface ArchiveProgress {
  /** Vault file bytes read (export) or archive bytes consumed (import) so far. */
  bytes: number
  /** The total when known: the vault's files (export), the archive's size for bytes or a Blob (import). */
  totalBytes: number | undefined
}

/** Options of `exportVault`: where the vault is, plus how to hand out the archive. */
export interface ExportVaultOptions extends LocationOptions {
  /**
   * `'bytes'` (default): one Uint8Array. `'stream'`: a ReadableStream of the zip, produced as it is
   * read; one whose reader takes no piece for 2 minutes errors with StoppedError and lets the vault go.
   */
  as?: 'bytes' | 'stream'
  /** Deflate level of the vault's files: 0 stores them, 1 (default) is fastest, 9 smallest. */
  level?: ArchiveLevel
  /** Called as the export goes (at most once per ~1 MiB piece). */
  onProgress?: (progress: ArchiveProgress) => void
  /** Abort the export: it rejects (or its stream errors) with StoppedError, and releases the snapshot. */
  signal?: AbortSignal
}

/** Options of `importVault`. */
export interface ImportVaultOptions extends LocationOptions {
  /** Replace an existing vault of that name (it stays intact until the import completes). Default false: AlreadyExistsError. */
  replace?: boolean
  /** Refuse archives whose files add up to more than this (default 8 GiB). */
  maxTotalBytes?: number
  /** Refuse archives that inflate beyond this ratio (default 250). */
  maxCompressionRatio?: number
  /** Called as archive bytes are consumed. */
  onProgress?: (progress: ArchiveProgress) => void
  /** Abort: the import rejects with StoppedError and removes what it wrote. */
  signal?: AbortSignal
}

/** What importVault reads an archive from. */
export type ArchiveInput = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

/** Where an import writes (an ArchiveImporter here, or one in a worker). */
export interface ImportSink {
  push(bytes: Uint8Array): Promise<void>
  finish(): Promise<void>
  abort(reason?: unknown): Promise<void>
}

const LOCATION_KEYS = ['storage', 'path', 'worker', 'assetBase', 'wasmUrl'] as const

function split(options: unknown, call: 'exportVault' | 'importVault', own: readonly string[]): { location: LocationOptions; rest: Record<string, unknown> } {
  if (options === undefined) return { location: {}, rest: {} }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`the options of ${call} must be an object`)
  const location: Record<string, unknown> = {}
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) {
    if ((LOCATION_KEYS as readonly string[]).includes(k)) location[k] = v
    else if (own.includes(k)) rest[k] = v
    else throw new InvalidArgumentError(`unknown option "${k}" of ${call} (known: ${[...LOCATION_KEYS, ...own].join(', ')})`)
  }
  validateLocationOptions(location, call)
  if (rest.onProgress !== undefined && typeof rest.onProgress !== 'function') throw new InvalidArgumentError(`${call}: option "onProgress" must be a function`)
  if (rest.signal !== undefined && (typeof rest.signal !== 'object' || rest.signal === null || typeof (rest.signal as AbortSignal).aborted !== 'boolean')) {
    throw new InvalidArgumentError(`${call}: option "signal" must be an AbortSignal`)
  }
  return { location: location as LocationOptions, rest }
}

/** Check exportVault's options (InvalidArgumentError naming the bad one). */
export function checkExportOptions(options: unknown): { location: LocationOptions; as: 'bytes' | 'stream'; level: ArchiveLevel; onProgress?: (p: ArchiveProgress) => void; signal?: AbortSignal } {
  const { location, rest } = split(options, 'exportVault', ['as', 'level', 'onProgress', 'signal'])
  if (rest.as !== undefined && rest.as !== 'bytes' && rest.as !== 'stream') throw new InvalidArgumentError(`exportVault: option "as" must be "bytes" or "stream", got ${JSON.stringify(rest.as)}`)
  if (rest.level !== undefined && (!Number.isInteger(rest.level) || (rest.level as number) < 0 || (rest.level as number) > 9)) {
    throw new InvalidArgumentError(`exportVault: option "level" must be an integer from 0 to 9, got ${JSON.stringify(rest.level)}`)
  }
  return { location, as: (rest.as as 'bytes' | 'stream') ?? 'bytes', level: (rest.level as ArchiveLevel) ?? 1, onProgress: rest.onProgress as never, signal: rest.signal as never }
}

/** Check importVault's options. */
export function checkImportOptions(options: unknown): { location: LocationOptions; replace: boolean; limits: Partial<ImportLimits>; onProgress?: (p: ArchiveProgress) => void; signal?: AbortSignal } {
  const { location, rest } = split(options, 'importVault', ['replace', 'maxTotalBytes', 'maxCompressionRatio', 'onProgress', 'signal'])
  if (rest.replace !== undefined && typeof rest.replace !== 'boolean') throw new InvalidArgumentError(`importVault: option "replace" must be a boolean`)
  for (const k of ['maxTotalBytes', 'maxCompressionRatio'] as const) {
    const v = rest[k]
    if (v !== undefined && (typeof v !== 'number' || !(v >= 1) || !Number.isFinite(v))) throw new InvalidArgumentError(`importVault: option "${k}" must be a finite number ≥ 1, got ${String(v)}`)
  }
  const limits: Partial<ImportLimits> = {}
  if (rest.maxTotalBytes !== undefined) limits.maxTotalBytes = rest.maxTotalBytes as number
  if (rest.maxCompressionRatio !== undefined) limits.maxCompressionRatio = rest.maxCompressionRatio as number
  return { location, replace: (rest.replace as boolean) ?? false, limits, onProgress: rest.onProgress as never, signal: rest.signal as never }
}

function stopped(call: string, name: string, signal: AbortSignal): StoppedError {
  return new StoppedError(`${call}("${name}") was aborted`, { cause: signal.reason })
}

/**
 * How long a streamed export waits for its reader to take a piece before it gives up: the engine
 * drops a snapshot nobody pulled for as long (src/domains/archive/engine/archive-engine.ts), after
 * which the stream could only fail. Given up, the stream errors with StoppedError and the vault the
 * export opened is closed: an abandoned stream (never read, never cancelled) no longer keeps it open
 * for good (deleteVault and importVault of it were refused as open). Changed by tests only.
 * @internal
 */
export const exportStreamIdle = { ms: 120_000 }

/**
 * Export through the engine's archive domain: a snapshot, then the zip pulled a piece at a time
 * (each piece crosses the worker as one transferred buffer). `done` runs once at the end, whatever
 * happens (the entry closes the vault it opened).
 */
export async function exportThrough(
  caller: DomainCaller,
  name: string,
  options: ReturnType<typeof checkExportOptions>,
  done: () => Promise<void>,
): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const { signal, onProgress } = options
  let start: ArchiveExportStart
  let finished = false
  const finish = async () => {
    if (finished) return
    finished = true
    try {
      if (start) await caller.call('archive', 'end', [start.id]).catch(() => {})
    } finally {
      await done()
    }
  }
  try {
    if (signal?.aborted) throw stopped('exportVault', name, signal)
    start = (await caller.call('archive', 'begin', [options.level])) as ArchiveExportStart
  } catch (err) {
    await finish()
    throw err
  }
  const pull = async (): Promise<Uint8Array | undefined> => {
    if (signal?.aborted) throw stopped('exportVault', name, signal)
    const piece = (await caller.call('archive', 'next', [start.id])) as ArchiveExportPiece
    onProgress?.({ bytes: piece.read, totalBytes: start.totalBytes })
    return piece.bytes
  }
  if (options.as === 'stream') {
    let onAbort: (() => void) | undefined
    let idle: ReturnType<typeof setTimeout> | undefined
    const unlisten = () => {
      clearTimeout(idle)
      signal?.removeEventListener('abort', onAbort!)
    }
    return new ReadableStream<Uint8Array>(
      {
        start(controller) {
          // Aborted while nobody pulls (the stream holds a piece and waits for its reader): the
          // stream errors and the snapshot and the vault the export opened are released now, not
          // at a next pull that may never come (the vault stayed open: deleteVault and importVault
          // of it were refused with ConflictError).
          // Released first: once a read has seen the StoppedError, the vault is closed.
          // (A close that fails is not the caller's to hear here: with `.finally` its rejection went
          // unhandled, which ends a Node process.)
          onAbort = () => {
            clearTimeout(idle)
            void finish()
              .catch(() => {})
              .then(() => controller.error(stopped('exportVault', name, signal!)))
          }
          signal?.addEventListener('abort', onAbort, { once: true })
        },
        async pull(controller) {
          clearTimeout(idle)
          try {
            const bytes = await pull()
            if (bytes) {
              controller.enqueue(bytes)
              // The next pull comes when the reader takes this piece; none within the engine's idle
              // time: released (see exportStreamIdle). Unref'd: a Node process that let the stream
              // go may end.
              const ms = exportStreamIdle.ms
              idle = setTimeout(() => {
                unlisten()
                void finish()
                  .catch(() => {})
                  .then(() => controller.error(new StoppedError(`exportVault("${name}"): its stream was not read for ${ms / 1000} s, so the export ended and released the vault`)))
              }, ms)
              ;(idle as { unref?: () => void }).unref?.()
            } else {
              unlisten()
              await finish()
              controller.close()
            }
          } catch (err) {
            unlisten()
            await finish()
            controller.error(err)
          }
        },
        async cancel() {
          unlisten()
          await finish()
        },
      },
      { highWaterMark: 1 },
    )
  }
  const parts: Uint8Array[] = []
  let total = 0
  try {
    for (let bytes = await pull(); bytes; bytes = await pull()) {
      parts.push(bytes)
      total += bytes.length
    }
  } finally {
    await finish()
  }
  return concatBytes(parts, total)
}

const SLICE_BYTES = 1024 * 1024

/**
 * The archive's bytes as chunks, whatever form they came in; its size when known; and, for a
 * stream, how to stop reading it while a read waits (an abort must not wait for a stalled source).
 */
function chunksOf(input: ArchiveInput): { chunks: AsyncIterable<Uint8Array>; size: number | undefined; cancel?: (reason: unknown) => void } {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
    return {
      size: bytes.length,
      chunks: (async function* () {
        for (let at = 0; at < bytes.length; at += SLICE_BYTES) yield bytes.subarray(at, at + SLICE_BYTES)
      })(),
    }
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) return { size: input.size, ...readStream(() => input.stream() as ReadableStream<Uint8Array>) }
  if (typeof ReadableStream !== 'undefined' && input instanceof ReadableStream) return { size: undefined, ...readStream(() => input) }
  if (input !== null && typeof input === 'object' && typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return {
      size: undefined,
      chunks: (async function* () {
        for await (const chunk of input as AsyncIterable<Uint8Array>) {
          if (!(chunk instanceof Uint8Array)) throw new InvalidArgumentError(`importVault: the archive stream gave ${typeof chunk}, not a Uint8Array`)
          yield chunk
        }
      })(),
    }
  }
  throw new InvalidArgumentError('importVault: argument "bytes" must be a Uint8Array, an ArrayBuffer, a Blob, a ReadableStream or an async iterable of Uint8Array')
}

/** A stream's chunks (its reader taken at the first read), and a cancel that ends a read waiting on it. */
function readStream(open: () => ReadableStream<Uint8Array>): { chunks: AsyncIterable<Uint8Array>; cancel: (reason: unknown) => void } {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let cancelled = false
  return {
    cancel(reason) {
      cancelled = true
      reader?.cancel(reason).catch(() => {})
    },
    chunks: (async function* () {
      if (cancelled) return
      reader = open().getReader()
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`importVault: the archive stream gave ${typeof value}, not a Uint8Array`)
          yield value
        }
      } finally {
        reader.releaseLock()
      }
    })(),
  }
}

/** Check importVault's input before anything starts (InvalidArgumentError for the wrong type). */
export function checkImportInput(input: unknown): void {
  chunksOf(input as ArchiveInput)
}

/** Feed an archive to an importer, with progress and abort; on any failure the importer removes what it wrote. */
export async function importInto(input: ArchiveInput, sink: ImportSink, name: string, options: ReturnType<typeof checkImportOptions>): Promise<void> {
  const { signal, onProgress } = options
  const { chunks, size, cancel } = chunksOf(input)
  const iterator = chunks[Symbol.asyncIterator]()
  // An abort stops the import at once, also while it waits for a source that sends nothing (a
  // stalled download): checked only between chunks, it waited for the next one, which might never
  // come, holding the vault's lock meanwhile.
  let onAbort: (() => void) | undefined
  const aborted = signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(stopped('importVault', name, signal))
        signal.addEventListener('abort', onAbort, { once: true })
      })
    : undefined
  aborted?.catch(() => {})
  let bytes = 0
  try {
    for (;;) {
      if (signal?.aborted) throw stopped('importVault', name, signal)
      const next = aborted ? await Promise.race([iterator.next(), aborted]) : await iterator.next()
      if (next.done) break
      const chunk = next.value
      if (signal?.aborted) throw stopped('importVault', name, signal)
      await sink.push(chunk)
      bytes += chunk.length
      onProgress?.({ bytes, totalBytes: size })
    }
    if (signal?.aborted) throw stopped('importVault', name, signal)
    await sink.finish()
  } catch (err) {
    // The source is let go: a stream is cancelled (ending a read that waits on it); an iterator is
    // asked to end without waiting for it, since it may be the thing that stalls.
    if (cancel) cancel(err)
    else void iterator.return?.().catch(() => {})
    await sink.abort(err).catch(() => {})
    throw err
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * An importer writing to `storage` on this thread (fflate loads with the first import). Its image is
 * checked for blobs the archive lacks here too, as Node's and the OPFS worker's imports do: sql.js
 * and the domains' queries (the engine's chunk) load with that check, on this thread, from
 * `location`'s wasmUrl or assetBase (or beside the package); where sql.js does not load, the check
 * is skipped, as in the OPFS worker, rather than failing an import that did not need it.
 */
export async function localImportSink(storage: StorageAdapter, name: string, checked: ReturnType<typeof checkImportOptions>, location: LocationOptions): Promise<ImportSink> {
  const { ArchiveImporter, DEFAULT_IMPORT_LIMITS } = await import('../persistence/archive-reader.js')
  const wasmUrl = location.wasmUrl !== undefined ? String(location.wasmUrl) : assetUrl('sql-wasm.wasm', location.assetBase).href
  const blobReferences = async (image: Uint8Array): Promise<Iterable<string>> => {
    const [{ imageBlobReferences }, { loadSqlJs }] = await Promise.all([import('../domains/registry.js'), import('../sqlite/sqlite-database.js')])
    try {
      await loadSqlJs({ wasmUrl })
    } catch {
      return []
    }
    return imageBlobReferences(image, { wasmUrl })
  }
  return ArchiveImporter.begin(storage, name, name, { ...DEFAULT_IMPORT_LIMITS, ...checked.limits }, checked.replace, blobReferences)
}
