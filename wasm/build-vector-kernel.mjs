// Builds wasm/vector-kernel.wasm (and src/domains/items/engine/vector-kernel-wasm.ts, the same bytes as base64 so
// the library needs no extra file fetch) from the instruction listing below.
//
// Why a generator and not C or .wat: no wasm32 clang and no wat2wasm are reliably installable on
// our machines and CI, and the kernel is ~60 instructions. The listing reads like the text format
// (one mnemonic per line); `node wasm/build-vector-kernel.mjs` (npm run build:wasm) rewrites both
// outputs, and --check fails when the committed files differ from what the listing gives.
//
// The kernel, in WebAssembly text format terms:
//
//   (module
//     (import "env" "memory" (memory 1))
//     (func (export "dots") (param $q i32) (param $m i32) (param $n i32) (param $stride i32) (param $out i32)
//       ;; for each of $n rows of $stride bytes starting at $m: out[r] = dot(q, row r), f32.
//       ;; $stride is a multiple of 64 bytes (rows are zero-padded), so the inner loop reads
//       ;; 16 floats per step into four independent f32x4 accumulators (hides add latency).
//       (local $j i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
//       (block $done (loop $rows
//         (br_if $done (i32.eqz (local.get $n)))
//         (local.set $a0 (v128.const f32x4 0 0 0 0)) ... $a3
//         (local.set $j (i32.const 0))
//         (loop $cols
//           (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (i32.add $m $j)) (v128.load offset=0 (i32.add $q $j)))))
//           ... offsets 16, 32, 48 into $a1..$a3
//           (br_if $cols (i32.lt_u (local.tee $j (i32.add $j (i32.const 64))) (local.get $stride))))
//         (f32.store (local.get $out) (horizontal sum of $a0+$a1+$a2+$a3))
//         (local.set $out (i32.add $out 4)) (local.set $m (i32.add $m $stride)) (local.set $n (i32.sub $n 1))
//         (br $rows))))
//     (func (export "dots8") (param $q i32) (param $m i32) (param $n i32) (param $stride i32) (param $out i32)
//       ;; the same over int8 rows (a quantised copy of the matrix, a quarter of its bytes), the
//       ;; query given widened to int16 (2·$stride bytes at $q): out[r] = Σ q[j]·row_r[j] as i32.
//       ;; Per 16 row bytes: i16x8.extend_{low,high}_i8x16_s, then i32x4.dot_i16x8_s with the
//       ;; query's two int16 vectors, into two i32x4 accumulators (|values| ≤ 127, so a row of up
//       ;; to 4096 bytes cannot overflow). Used as an exact filter: src/domains/items/engine/vector-index.ts.
//       ...)
//   )
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

const here = import.meta.dirname
const uleb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b) } while (n); return out }
const sleb = (n) => { const out = []; for (;;) { const b = n & 0x7f; n >>= 7; if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { out.push(b); return out } out.push(b | 0x80) } }
const str = (s) => [...uleb(s.length), ...Buffer.from(s, 'utf8')]
const section = (id, body) => [id, ...uleb(body.length), ...body]
const vec = (items) => [...uleb(items.length), ...items.flat()]

// Locals: params 0..4, then $j = 5, $a0..$a3 = 6..9.
const Q = 0, M = 1, N = 2, STRIDE = 3, OUT = 4, J = 5, A = [6, 7, 8, 9]
const op = {
  block: () => [0x02, 0x40], loop: () => [0x03, 0x40], end: () => [0x0b],
  br: (d) => [0x0c, ...uleb(d)], br_if: (d) => [0x0d, ...uleb(d)],
  get: (i) => [0x20, ...uleb(i)], set: (i) => [0x21, ...uleb(i)], tee: (i) => [0x22, ...uleb(i)],
  i32const: (v) => [0x41, ...sleb(v)], i32add: () => [0x6a], i32sub: () => [0x6b], i32eqz: () => [0x45], i32ltu: () => [0x49],
  f32add: () => [0x92], f32store: () => [0x38, 2, 0],
  v128load: (offset) => [0xfd, ...uleb(0), 4, ...uleb(offset)], // align 2^4
  v128zero: () => [0xfd, ...uleb(12), ...new Array(16).fill(0)],
  f32x4add: () => [0xfd, ...uleb(228)], f32x4mul: () => [0xfd, ...uleb(230)],
  lane: (l) => [0xfd, ...uleb(31), l], // f32x4.extract_lane
  i32store: () => [0x36, 2, 0],
  i16x8extendLowS: () => [0xfd, ...uleb(0x87)], i16x8extendHighS: () => [0xfd, ...uleb(0x88)],
  i32x4dotI16x8S: () => [0xfd, ...uleb(0xba)], i32x4add: () => [0xfd, ...uleb(0xae)],
  laneI32: (l) => [0xfd, ...uleb(0x1b), l], // i32x4.extract_lane
}

// The row loop both kernels share: for each of $n rows, `start` (zero the accumulators), the
// column loop (`step` per `bytesPerStep` bytes of a row), then `store` (given out[r]'s address on
// the stack, stores the row's result there) and on to the next row.
const rowLoop = ({ start, step, bytesPerStep, store }) => [
  op.block(),
  op.loop(),
  op.get(N), op.i32eqz(), op.br_if(1),
  start,
  op.i32const(0), op.set(J),
  op.loop(),
  step,
  op.get(J), op.i32const(bytesPerStep), op.i32add(), op.tee(J), op.get(STRIDE), op.i32ltu(), op.br_if(0),
  op.end(),
  op.get(OUT), store,
  op.get(OUT), op.i32const(4), op.i32add(), op.set(OUT),
  op.get(M), op.get(STRIDE), op.i32add(), op.set(M),
  op.get(N), op.i32const(1), op.i32sub(), op.set(N),
  op.br(0),
  op.end(),
  op.end(),
  op.end(), // function end
].flat(Infinity)

const body = rowLoop({
  start: A.map((a) => [op.v128zero(), op.set(a)]),
  step: A.map((a, k) => [
    op.get(a),
    op.get(M), op.get(J), op.i32add(), op.v128load(16 * k),
    op.get(Q), op.get(J), op.i32add(), op.v128load(16 * k),
    op.f32x4mul(), op.f32x4add(), op.set(a),
  ]),
  bytesPerStep: 64,
  // out[r] = horizontal sum of a0 + a1 + a2 + a3
  store: [
    op.get(A[0]), op.get(A[1]), op.f32x4add(), op.get(A[2]), op.f32x4add(), op.get(A[3]), op.f32x4add(), op.tee(A[0]),
    op.lane(0), op.get(A[0]), op.lane(1), op.f32add(), op.get(A[0]), op.lane(2), op.f32add(), op.get(A[0]), op.lane(3), op.f32add(),
    op.f32store(),
  ],
})

// dots8. Locals: params 0..4, then $j = 5, $acc0 = 6, $acc1 = 7, $x = 8.
const ACC0 = 6, ACC1 = 7, X = 8
// The query's int16 vectors for row bytes [j, j+16): at $q + 2j and $q + 2j + 16.
const q16 = (offset) => [op.get(Q), op.get(J), op.get(J), op.i32add(), op.i32add(), op.v128load(offset)]
const body8 = rowLoop({
  start: [op.v128zero(), op.set(ACC0), op.v128zero(), op.set(ACC1)],
  step: [
    op.get(M), op.get(J), op.i32add(), op.v128load(0), op.set(X),
    op.get(ACC0), op.get(X), op.i16x8extendLowS(), ...q16(0), op.i32x4dotI16x8S(), op.i32x4add(), op.set(ACC0),
    op.get(ACC1), op.get(X), op.i16x8extendHighS(), ...q16(16), op.i32x4dotI16x8S(), op.i32x4add(), op.set(ACC1),
  ],
  bytesPerStep: 16,
  store: [
    op.get(ACC0), op.get(ACC1), op.i32x4add(), op.tee(ACC0),
    op.laneI32(0), op.get(ACC0), op.laneI32(1), op.i32add(), op.get(ACC0), op.laneI32(2), op.i32add(), op.get(ACC0), op.laneI32(3), op.i32add(),
    op.i32store(),
  ],
})

const I32 = 0x7f, V128 = 0x7b
const func = [...vec([[1, I32], [4, V128]]), ...body]
const func8 = [...vec([[1, I32], [3, V128]]), ...body8]
const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([I32, I32, I32, I32, I32].map((t) => [t])), 0]])), // type: (i32 x5) -> ()
  ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])), // import memory, min 1 page
  ...section(3, vec([[0], [0]])), // two functions of type 0
  ...section(7, vec([[...str('dots'), 0x00, 0], [...str('dots8'), 0x00, 1]])), // exports
  ...section(10, vec([[...uleb(func.length), ...func], [...uleb(func8.length), ...func8]])),
])

if (!WebAssembly.validate(bytes)) throw new Error('the generated vector kernel does not validate')
const base64 = Buffer.from(bytes).toString('base64')
const ts = `// Generated by wasm/build-vector-kernel.mjs (npm run build:wasm): do not edit.
/** The cosine kernel (wasm/vector-kernel.wasm, ${bytes.length} bytes) as base64, so no file has to be fetched. */
export const VECTOR_KERNEL_WASM = '${base64}'
`
const wasmPath = resolve(here, 'vector-kernel.wasm')
const tsPath = resolve(here, '../src/domains/items/engine/vector-kernel-wasm.ts')
if (process.argv.includes('--check')) {
  const same = (p, v) => { try { return Buffer.compare(readFileSync(p), Buffer.from(v)) === 0 } catch { return false } }
  if (!same(wasmPath, bytes) || !same(tsPath, ts)) { console.error('vector kernel outputs are stale: run npm run build:wasm'); process.exit(1) }
} else {
  writeFileSync(wasmPath, bytes)
  writeFileSync(tsPath, ts)
  console.log(`wasm/vector-kernel.wasm: ${bytes.length} bytes`)
}
