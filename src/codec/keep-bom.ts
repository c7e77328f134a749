/**
 * Run `read`, a synchronous call that makes TextDecoders, with every TextDecoder it makes keeping a
 * leading U+FEFF. By default a decoder drops a U+FEFF at the start of a text, and two libraries we
 * use make their decoders so: sql.js makes one as it initialises and decodes every text SQLite hands
 * back with it (a key "\uFEFFk" was listed as "k", and a read of the key listed found nothing);
 * arrow-js reads a result's column and struct field names through flatbuffers, which makes a decoder
 * for each message (a column named "\uFEFFa" was named "a"). The global is swapped for this call only
 * (nothing else runs in between: the call is synchronous) and put back after.
 */
export function keepingByteOrderMarks<T>(read: () => T): T {
  const Original = globalThis.TextDecoder
  globalThis.TextDecoder = class extends Original {
    constructor(label?: string, options?: TextDecoderOptions) {
      super(label, { ...options, ignoreBOM: true })
    }
  }
  try {
    return read()
  } finally {
    globalThis.TextDecoder = Original
  }
}
