import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { checkWholeNumber } from '../../../codec/checks.js'
import { STREAM_CHUNK_BYTES, ValueKind, type Key, type SetStreamOptions, type StreamInfo } from '../shared/kv-types.js'

/** Calls a key-value engine method of this namespace (the namespace is added by the caller). */
export type KvCall = <T>(method: string, args: unknown[], transfer?: Transferable[]) => Promise<T>

/** What `setStream()` reads: a web ReadableStream, a Blob, or any (async) iterable of byte chunks. */
export type ByteSource = ReadableStream<Uint8Array> | Blob | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

function streamOptions(options: unknown): { size: number | undefined; signal: AbortSignal | undefined } {
  if (options === undefined || options === null) return { size: undefined, signal: undefined }
  if (typeof options !== 'object') throw new InvalidArgumentError(`setStream() options must be an object such as { size }, got ${typeof options}`)
  const o = options as SetStreamOptions
  for (const name of Object.keys(o)) if (name !== 'size' && name !== 'signal') throw new InvalidArgumentError(`unknown setStream() option "${name}"`)
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new InvalidArgumentError('setStream() option signal must be an AbortSignal')
  return { size: o.size === undefined ? undefined : checkWholeNumber(o.size, 'size', 0), signal: o.signal }
}

/** The byte chunks of a source, one at a time (never the whole source at once). */
async function* pieces(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) source = source.stream() as ReadableStream<Uint8Array>
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = source.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield value
      }
    } finally {
      reader.releaseLock()
    }
  }
  if (source && (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function' || typeof (source as Iterable<Uint8Array>)[Symbol.iterator] === 'function')) {
    yield* source as AsyncIterable<Uint8Array>
    return
  }
  throw new InvalidArgumentError('setStream() reads a ReadableStream, a Blob or an iterable of Uint8Array chunks')
}

/**
 * Write a stream as the value of `key`: its bytes are cut into chunks of {@link STREAM_CHUNK_BYTES},
 * each stored (durably) as it fills, and the chunks become the value in one commit at the end. At
 * most one chunk is buffered here and one is in flight, so a value of any size is written in
 * bounded memory. A failure at any point (the source throws, its size differs from `size`, the
 * signal aborts) releases the chunks and leaves the key as it was. Resolves to the bytes written.
 */
export async function writeStream(call: KvCall, key: Key, source: ByteSource, options: unknown): Promise<number> {
  const { size: declared, signal } = streamOptions(options)
  signal?.throwIfAborted()
  const hashes: string[] = []
  let total = 0
  let buffer = new Uint8Array(STREAM_CHUNK_BYTES)
  let filled = 0
  let inFlight: Promise<void> | undefined
  const send = async (chunk: Uint8Array): Promise<void> => {
    // Chunks go in order: the next waits for the one in flight.
    await inFlight
    const index = hashes.length
    hashes.push('')
    inFlight = call<string>('streamPut', [chunk], [chunk.buffer as ArrayBuffer]).then((hash) => {
      hashes[index] = hash
    })
  }
  try {
    for await (const piece of pieces(source)) {
      signal?.throwIfAborted()
      if (!(piece instanceof Uint8Array)) throw new InvalidArgumentError(`setStream() chunks must be Uint8Array, got ${piece === null ? 'null' : typeof piece}`)
      total += piece.length
      if (declared !== undefined && total > declared) throw new InvalidArgumentError(`the stream delivered more than the ${declared} bytes declared`)
      let at = 0
      while (at < piece.length) {
        const n = Math.min(piece.length - at, STREAM_CHUNK_BYTES - filled)
        buffer.set(piece.subarray(at, at + n), filled)
        filled += n
        at += n
        if (filled === STREAM_CHUNK_BYTES) {
          await send(buffer)
          buffer = new Uint8Array(STREAM_CHUNK_BYTES)
          filled = 0
        }
      }
    }
    signal?.throwIfAborted()
    if (declared !== undefined && total !== declared) throw new InvalidArgumentError(`the stream delivered ${total} bytes, not the ${declared} declared`)
    if (filled > 0) await send(buffer.slice(0, filled))
    await inFlight
    await call('streamCommit', [key, hashes, total])
    return total
  } catch (err) {
    await inFlight?.catch(() => undefined)
    const written = hashes.filter((h) => h !== '')
    if (written.length > 0) await call('streamAbort', [written]).catch(() => undefined)
    throw err
  }
}

/**
 * The value of `key` as a stream of byte chunks, fetched one at a time as the reader pulls. The
 * value must be bytes (a Uint8Array, or what `setStream()` wrote). If the key is replaced or
 * deleted while a streamed value is being read, the stream errors with ConflictError: it never
 * delivers a mix of two values.
 */
export async function readStream(call: KvCall, key: Key, describe: string): Promise<ReadableStream<Uint8Array>> {
  const info = await call<StreamInfo | undefined>('streamInfo', [key])
  if (!info) throw new NotFoundError(`key ${describe} not found`)
  if (info.kind !== ValueKind.Raw) throw new InvalidArgumentError(`key ${describe} holds a structured value, not bytes: read it with get()`)
  if (info.bytes) {
    const whole = info.bytes
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < whole.length; at += STREAM_CHUNK_BYTES) controller.enqueue(whole.subarray(at, at + STREAM_CHUNK_BYTES))
        controller.close()
      },
    })
  }
  let next = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (next === info.chunks.length) {
          controller.close()
          return
        }
        const index = next++
        controller.enqueue(await call<Uint8Array>('streamChunk', [key, index, info.chunks[index]]))
      },
    },
    // One chunk read ahead of the reader at most.
    { highWaterMark: 1 },
  )
}
