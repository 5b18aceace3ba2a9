import { createHash, type Hash, hash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

/**
 * The worker side of {@link HashPool} (cafs/hash-pool.ts): SHA-256 off the main thread. One
 * message = one batch: a transferred buffer holding every input back to back, and the list of
 * operations on it in order. Answers with the digests of the ops that produce one (32 bytes
 * each, transferred back). File hashers live here between batches, keyed by their id.
 */

/** Op codes of a batch (see HashPool). */
const OP_DIGEST = 0
const OP_FILE_UPDATE = 1
const OP_FILE_DIGEST = 2

const files = new Map<number, Hash>()

parentPort?.on('message', (msg: { id: number; ops: Int32Array; buf: ArrayBuffer }) => {
  const { id, ops, buf } = msg
  const input = new Uint8Array(buf)
  let results = 0
  for (let i = 0; i < ops.length; i += 3) if (ops[i] === OP_DIGEST || ops[i] === OP_FILE_DIGEST) results++
  const out = new Uint8Array(32 * results)
  let offset = 0
  let r = 0
  for (let i = 0; i < ops.length; i += 3) {
    const op = ops[i]!
    const arg = ops[i + 1]!
    const len = ops[i + 2]!
    if (op === OP_DIGEST) {
      out.set(hash('sha256', input.subarray(offset, offset + len), 'buffer'), 32 * r++)
    } else if (op === OP_FILE_UPDATE) {
      let h = files.get(arg)
      if (h === undefined) {
        h = createHash('sha256')
        files.set(arg, h)
      }
      h.update(input.subarray(offset, offset + len))
    } else if (op === OP_FILE_DIGEST) {
      out.set((files.get(arg) ?? createHash('sha256')).digest(), 32 * r++)
      files.delete(arg)
    }
    offset += len
  }
  // The input buffer goes back too, for the pool to reuse (no allocation per batch).
  parentPort?.postMessage({ id, out: out.buffer, buf }, [out.buffer, buf])
})
