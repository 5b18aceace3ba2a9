import { GEAR } from './gear.js'

/**
 * The chunker's hot loop (CAFS-3) in two interchangeable engines. A scanner looks for the first
 * cut in `buf[from, to)`: bytes before `mid` are tested with `maskSmall`, the rest with
 * `maskLarge`. It returns the exclusive end of the chunk (≥ 1) when a byte satisfies its mask,
 * or `-1 - (h >>> 0)` (always negative) with the updated hash state when none does: one number,
 * so the loop allocates nothing. `to - from` never exceeds {@link SCAN_MAX_BYTES}.
 */
export type GearScanner = (
  buf: Uint8Array,
  from: number,
  mid: number,
  to: number,
  h: number,
  maskSmall: number,
  maskLarge: number
) => number

/** Largest region one scanner call sees: the chunker never scans past a maximum-size chunk. */
export const SCAN_MAX_BYTES = 128 * 1024

/** Reference engine: plain Uint8Array and int32 arithmetic. */
export const scanJs: GearScanner = (buf, from, mid, to, h, maskSmall, maskLarge) => {
  const gear = GEAR
  let j = from
  // `| 0` keeps h an int32 (same bits as the uint32 of CAFS-3) so V8 keeps it in a register.
  for (; j < mid; j++) {
    h = ((h << 1) + gear[buf[j]!]!) | 0
    if ((h & maskSmall) === 0) return j + 1
  }
  for (; j < to; j++) {
    h = ((h << 1) + gear[buf[j]!]!) | 0
    if ((h & maskLarge) === 0) return j + 1
  }
  return -1 - (h >>> 0)
}

const leb = (n: number): number[] => {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n) b |= 0x80
    out.push(b)
  } while (n)
  return out
}
const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes]
const name = (s: string): number[] => [...leb(s.length), ...Buffer.from(s, 'ascii')]

/** Byte offset of the copied input in the WebAssembly memory (the gear table sits at 0). */
const DATA_OFFSET = 1024

/**
 * The same loop as {@link scanJs}, hand-assembled to WebAssembly and unrolled four times (about
 * 3× the plain loop's speed in V8: no bounds or type checks, fewer branches). Text form, with
 * `STEP(k)` the body for byte `p + k`:
 *
 * ```wat
 * (memory (export "mem") 3)              ;; gear table at 0, input copied to 1024
 * (global $h (export "h") (mut i32) (i32.const 0))
 * (func (export "scan") (param $p i32) (param $end i32) (param $h i32) (param $mask i32) (result i32)
 *   ;; STEP(k) =
 *   ;;   (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
 *   ;;                          (i32.load (i32.shl (i32.load8_u offset=k (local.get $p)) (i32.const 2)))))
 *   ;;   (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
 *   ;;     (then (global.set $h (local.get $h)) (return (i32.add (local.get $p) (i32.const k+1)))))
 *   (loop $four
 *     (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
 *       (then STEP(0) STEP(1) STEP(2) STEP(3)
 *             (local.set $p (i32.add (local.get $p) (i32.const 4))) (br $four))))
 *   (loop $one
 *     (if (i32.lt_u (local.get $p) (local.get $end))
 *       (then STEP(0) (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $one))))
 *   (global.set $h (local.get $h))
 *   (i32.const -1))
 * ```
 */
function wasmModuleBytes(): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f
  const step = (k: number): number[] => [
    ...[0x20, 0x02, 0x41, 0x01, 0x74], // h << 1
    ...[0x20, 0x00, 0x2d, 0x00, k], // i32.load8_u offset=k [p]
    ...[0x41, 0x02, 0x74, 0x28, 0x02, 0x00], // i32.load [byte << 2] (gear entry)
    ...[0x6a, 0x22, 0x02], // add, local.tee h
    ...[0x20, 0x03, 0x71, 0x45], // (h & mask) == 0
    ...[0x04, 0x40, 0x20, 0x02, 0x24, 0x00, 0x20, 0x00, 0x41, k + 1, 0x6a, 0x0f, 0x0b] // if: $h = h; return p + k + 1
  ]
  const body = [
    0x00, // no locals besides the parameters
    ...[0x03, 0x40], // loop $four
    ...[0x20, 0x00, 0x41, 0x04, 0x6a, 0x20, 0x01, 0x4d], // p + 4 <= end (unsigned)
    ...[0x04, 0x40], // if
    ...step(0),
    ...step(1),
    ...step(2),
    ...step(3),
    ...[0x20, 0x00, 0x41, 0x04, 0x6a, 0x21, 0x00], // p += 4
    ...[0x0c, 0x01, 0x0b, 0x0b], // br $four, end if, end loop
    ...[0x03, 0x40], // loop $one
    ...[0x20, 0x00, 0x20, 0x01, 0x49], // p < end (unsigned)
    ...[0x04, 0x40], // if
    ...step(0),
    ...[0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00], // p += 1
    ...[0x0c, 0x01, 0x0b, 0x0b], // br $one, end if, end loop
    ...[0x20, 0x02, 0x24, 0x00], // $h = h
    ...[0x41, 0x7f, 0x0b] // return -1
  ]
  const pages = Math.ceil((DATA_OFFSET + SCAN_MAX_BYTES) / 65536)
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 1, I32]), // type 0: (i32 i32 i32 i32) -> i32
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x00, ...leb(pages)]), // one memory, no maximum
    ...section(6, [1, I32, 0x01, 0x41, 0x00, 0x0b]), // mutable i32 global = 0
    ...section(7, [3, ...name('mem'), 0x02, 0, ...name('scan'), 0x00, 0, ...name('h'), 0x03, 0]),
    ...section(10, [1, ...leb(body.length), ...body])
  ])
}

interface WasmExports {
  mem: WebAssembly.Memory
  scan: (p: number, end: number, h: number, mask: number) => number
  h: WebAssembly.Global
}

/**
 * Builds the WebAssembly engine, or returns `undefined` when WebAssembly is unavailable. One
 * instance serves every chunker: calls are synchronous, so they never interleave.
 */
export function createWasmScanner(): GearScanner | undefined {
  if (typeof WebAssembly !== 'object') return undefined
  let ex: WasmExports
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmModuleBytes()))
    ex = instance.exports as unknown as WasmExports
  } catch {
    return undefined
  }
  const mem = new Uint8Array(ex.mem.buffer)
  new Int32Array(ex.mem.buffer, 0, 256).set(GEAR)
  const { scan, h: state } = ex
  return (buf, from, mid, to, h, maskSmall, maskLarge) => {
    // Larger regions do not fit the module's memory; the chunker never asks for them.
    if (to - from > SCAN_MAX_BYTES) return scanJs(buf, from, mid, to, h, maskSmall, maskLarge)
    mem.set(buf.subarray(from, to), DATA_OFFSET)
    const shift = from - DATA_OFFSET
    const m = mid - shift
    const e = to - shift
    let r = scan(DATA_OFFSET, m, h, maskSmall)
    if (r >= 0) return r + shift
    r = scan(m, e, state.value as number, maskLarge)
    if (r >= 0) return r + shift
    return -1 - ((state.value as number) >>> 0)
  }
}

/** The default engine: WebAssembly when available, else {@link scanJs}. */
export const defaultScanner: GearScanner = createWasmScanner() ?? scanJs
