/**
 * Run `read` (a synchronous read of Arrow IPC) with TextDecoder keeping a leading U+FEFF. arrow-js
 * reads a result's column and struct field names through flatbuffers, which makes a default
 * `new TextDecoder()` for each message it reads, and by default that drops a U+FEFF at the start
 * of a text: a column named "\uFEFFa" was named "a". The global is swapped for this call only
 * (nothing else runs in between: the read is synchronous) and put back after. Values are not
 * decoded here: arrow-js decodes them later with a decoder of its own (client/sql-strings.ts).
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
