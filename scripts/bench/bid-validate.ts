import { performance } from 'node:perf_hooks'
import native from 'secp256k1/bindings.js'
import {
  type Bid,
  decodeCompactSignature,
  encodeSigned,
  Identity,
  messageDigest,
  money,
  nativeSecp256k1Available,
  signBid,
  validateBid
} from '../../protocol/index.js'
import type { Bench } from '../bench.js'

/**
 * Full validation (decode, every field, peer id ↔ address, time window, duplicate lookup,
 * signature recovery) of distinct pre-signed bids on one thread, against raw libsecp256k1
 * `ecdsaRecover` on the same signatures in the same run. Target: ratio >= 0.6.
 */
export const bench: Bench = {
  name: 'bid-validate',
  async run({ quick }) {
    const count = quick ? 200 : 1000
    const identities = Array.from({ length: 8 }, (_, i) => {
      const key = new Uint8Array(32)
      key[0] = 1
      key[31] = i + 1
      return Identity.fromPrivateKey(key)
    })
    const t0 = 1_700_000_000_000
    const bids: Bid[] = []
    for (let i = 0; i < count; i++)
      bids.push(
        signBid(identities[i % identities.length] as Identity, {
          article: 'net.bitwrk/blender/0/2.80/512M',
          type: i % 2 === 0 ? 'BUY' : 'SELL',
          price: money('BTC', BigInt(100_000 + i)),
          nonce: i.toString(16).padStart(32, '0'),
          createdMs: t0 + i,
          expiresMs: t0 + i + 120_000
        })
      )
    const wires = bids.map((b) => encodeSigned(b))
    // The duplicate lookup runs (a miss) on every validation, as in the gossip validator.
    const seen = new Set<string>()
    const ctx = { nowMs: t0 + count, maxClockSkewMs: 2000, isDuplicate: (id: string) => seen.has(id) }

    // Raw recovery inputs, prepared outside the timed loop.
    const raw = bids.map((b) => {
      const s = decodeCompactSignature(b.signature)!
      return { rs: s.rs, recid: s.recid, digest: messageDigest(b.document) }
    })

    let accepted = 0
    // One pass over all distinct bids (each side), timed; rate in operations per second.
    const validatePass = (): number => {
      const start = performance.now()
      for (let i = 0; i < count; i++)
        if (validateBid(wires[i] as Uint8Array, ctx).result === 'accept') accepted++
      return (count / (performance.now() - start)) * 1000
    }
    const recoverPass = (): number => {
      const start = performance.now()
      for (let i = 0; i < count; i++) {
        const r = raw[i]!
        native.ecdsaRecover(r.rs, r.recid, r.digest, true)
      }
      return (count / (performance.now() - start)) * 1000
    }
    // Warm up, then alternate short paired rounds: the machine is shared, so the figures are
    // medians of rounds and the ratio is the median of per-round ratios (same load on both).
    validatePass()
    recoverPass()
    const rounds = quick ? 5 : 15
    const v: number[] = []
    const r: number[] = []
    const ratios: number[] = []
    for (let k = 0; k < rounds; k++) {
      const a = validatePass()
      const b = recoverPass()
      v.push(a)
      r.push(b)
      ratios.push(a / b)
    }
    if (accepted === 0) throw new Error('no bid accepted')
    const bidsPerS = median(v)
    const recoverPerS = median(r)

    return {
      bids_per_s: Math.round(bidsPerS),
      libsecp256k1_recover_per_s: Math.round(recoverPerS),
      ratio: Math.round(median(ratios) * 1000) / 1000,
      native: nativeSecp256k1Available(),
      distinct_bids: count
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
