import { createHash } from 'node:crypto'

/** ASCII seed of the gear table (CAFS-2); changing it changes every chunk boundary. */
export const GEAR_SEED = 'bitwrk-cafs-gear-v1'

/**
 * Generates the 256-entry gear table of CAFS-2: entry `i` is the first four bytes, read
 * big-endian, of SHA-256(ASCII {@link GEAR_SEED} || the single byte `i`). Deterministic and
 * easy to reproduce in any language; the values are as good as random for a gear hash.
 */
export function generateGearTable(seed: string = GEAR_SEED): Uint32Array {
  const table = new Uint32Array(256)
  const prefix = Buffer.from(seed, 'ascii')
  for (let i = 0; i < 256; i++) {
    const d = createHash('sha256').update(prefix).update(Uint8Array.of(i)).digest()
    table[i] = d.readUInt32BE(0)
  }
  return table
}

/**
 * The table as signed 32-bit integers (same bits), for the chunker's hot loop: V8 keeps int32
 * arithmetic in registers, while uint32 values above 2^31 would force doubles.
 */
export const GEAR: Int32Array = new Int32Array(generateGearTable().buffer)
