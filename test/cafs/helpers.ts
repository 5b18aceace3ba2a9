import { createCipheriv } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The LCG byte sequence of notes I (x0 = 1; first bytes c67e816b…). */
export function lcgBytes(n: number): Uint8Array {
  const b = new Uint8Array(n)
  let x = 1
  for (let i = 0; i < n; i++) {
    // Math.imul keeps the product exact mod 2^32, and mod 2^31 only needs the low 31 bits.
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff
    b[i] = (x >>> 16) & 0xff
  }
  return b
}

/** Deterministic pseudo-random bytes: AES-128-CTR keystream for `seed` (fast, reproducible). */
export function seededBytes(n: number, seed: number): Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed >>> 0, 0)
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  const out = c.update(Buffer.alloc(n))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** A fresh temp dir under os.tmpdir(); returns its path and a remover. */
export async function tempDir(
  prefix = 'bitwrk-cafs-'
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Splits `data` at the given (sorted, in-range) points into views. */
export function splitAt(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points].sort((a, b) => a - b)) {
    out.push(data.subarray(prev, p))
    prev = p
  }
  out.push(data.subarray(prev))
  return out
}

/** Collects an async iterable of byte arrays into one buffer. */
export async function collect(src: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of src) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
