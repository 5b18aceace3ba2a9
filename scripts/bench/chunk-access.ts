import { ChunkExchange } from '../../cafs/adapters/libp2p/index.js'
import { chunkBytes } from '../../cafs/chunker.js'
import { sha256 } from '../../cafs/keys.js'
import { manifestOfBytes } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { TxFileAccess } from '../../node/content/file-access.js'
import { type BitwrkHost, createHost } from '../../node/host/host.js'
import { randomPrivateKey } from '../../node/testing.js'
import { Identity, verifyMessage } from '../../protocol/identity/index.js'
import { openResultKey, sealResultKey, transactionId } from '../../protocol/transaction/index.js'
import type { Bench } from '../bench.js'
import { pseudoRandom } from './transfer-child.js'

/** CPU milliseconds of the whole process since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from)
  return (d.user + d.system) / 1000
}

/** Operations per second of `f` over `n` calls. */
function perSecond(n: number, f: (i: number) => unknown): number {
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) f(i)
  return Math.round(n / (Number(process.hrtime.bigint() - t) / 1e9))
}

/**
 * What privacy costs (DESIGN.md invariant 7), each figure against its baseline in the same run:
 * a fetch of one file from a provider whose chunk server asks the node's access policy
 * (`TxFileAccess`, CHUNK-14) for every key against the same fetch from an open provider over
 * the same store (alternated, order swapped each round, best of four; CPU per MiB of both ends), and sealing / opening
 * a result key (TX-23) against one signature verification (what every observer pays for the
 * same transmit-finished anyway).
 */
export const bench: Bench = {
  name: 'chunk-access',
  async run({ quick }) {
    const mib = quick ? 4 : 32
    const data = pseudoRandom(mib << 20, 1)
    const store = new MemoryChunkStore()
    for (const c of chunkBytes(data)) await store.put(sha256(c), c)
    const manifest = manifestOfBytes(data)
    const host = (): Promise<BitwrkHost> =>
      createHost({ privateKey: randomPrivateKey(), loopbackOnly: true, dhtSelfQuery: false })
    const [open, guarded, fetcher] = [await host(), await host(), await host()]
    const files = new TxFileAccess()
    // The grant a real transaction makes, plus other transactions' grants to make the lookup honest.
    files.grant('aa'.repeat(32), fetcher.peerId, manifest)
    for (let i = 0; i < 8; i++)
      files.grant(i.toString(16).padStart(64, '0'), `peer${i}`, manifestOfBytes(pseudoRandom(1 << 20, i + 1)))
    const exchanges = [
      new ChunkExchange(open.libp2p, { store }),
      new ChunkExchange(guarded.libp2p, { store, access: (peer, key) => files.allows(peer, key) }),
      new ChunkExchange(fetcher.libp2p, { store: new MemoryChunkStore() })
    ]
    const client = exchanges[2] as ChunkExchange
    try {
      for (const x of exchanges) await x.start()
      for (const h of [open, guarded]) {
        const addr = h.multiaddrs()[0]
        if (addr === undefined) throw new Error('no address')
        await fetcher.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
      }
      const best = { open: { s: Infinity, cpu: Infinity }, guarded: { s: Infinity, cpu: Infinity } }
      const order = [
        ['open', open],
        ['guarded', guarded]
      ] as const
      // alternated, and the order swapped each round, so that neither side always runs warm
      for (let round = 0; round < 4; round++)
        for (const [name, provider] of round % 2 === 0 ? order : [...order].reverse()) {
          const into = new MemoryChunkStore()
          const t = process.hrtime.bigint()
          const c = process.cpuUsage()
          await client.fetchFile(manifest, { providers: [provider.libp2p.peerId], store: into })
          const b = best[name]
          b.s = Math.min(b.s, Number(process.hrtime.bigint() - t) / 1e9)
          b.cpu = Math.min(b.cpu, cpuSince(c))
          if (into.stats().bytes !== data.length) throw new Error(`${name}: incomplete fetch`)
        }

      // The policy alone, per key as the server asks it: its share of the measured fetch CPU.
      const keys = manifest.chunks.map((c) => c.key)
      const allowsPerS = perSecond(keys.length * 20, (i) =>
        files.allows(fetcher.peerId, keys[i % keys.length] as Uint8Array)
      )
      const policyMsPerMib = (keys.length / mib / allowsPerS) * 1000

      const buyer = Identity.fromPrivateKey(new Uint8Array(32).fill(1))
      const txid = transactionId('a'.repeat(64), 'b'.repeat(64))
      const key = new Uint8Array(32).fill(9)
      const n = quick ? 200 : 1000
      const eph = (i: number) => () => {
        const e = new Uint8Array(32).fill(7)
        e[0] = (i % 200) + 1
        return e
      }
      const sealed = Array.from({ length: n }, (_, i) => sealResultKey(buyer.publicKey, txid, key, eph(i)))
      const doc = `kind=bitwrk-tx-v1&msg=accept-result&txid=${txid}`
      const sig = buyer.sign(doc)
      const verifyPerS = perSecond(n, () => verifyMessage(buyer.address, sig, doc))
      const sealPerS = perSecond(n, (i) => sealResultKey(buyer.publicKey, txid, key, eph(i)))
      const openPerS = perSecond(n, (i) => openResultKey(buyer.privateKey, txid, sealed[i] as Uint8Array))
      return {
        file_mib: mib,
        chunks: manifest.chunks.length,
        granted_keys: files.size(),
        open_mib_per_s: Math.round(mib / best.open.s),
        guarded_mib_per_s: Math.round(mib / best.guarded.s),
        ratio: Number((best.open.s / best.guarded.s).toFixed(3)),
        open_cpu_ms_per_mib: Number((best.open.cpu / mib).toFixed(2)),
        guarded_cpu_ms_per_mib: Number((best.guarded.cpu / mib).toFixed(2)),
        cpu_ratio: Number((best.open.cpu / best.guarded.cpu).toFixed(3)),
        policy_lookups_per_s: allowsPerS,
        policy_ms_per_mib: Number(policyMsPerMib.toFixed(4)),
        policy_share_of_fetch_cpu: Number((policyMsPerMib / (best.open.cpu / mib)).toFixed(5)),
        seal_per_s: sealPerS,
        open_per_s: openPerS,
        verify_per_s: verifyPerS,
        open_vs_verify: Number((openPerS / verifyPerS).toFixed(2))
      }
    } finally {
      for (const x of exchanges) await x.stop()
      await Promise.all([open.stop(), guarded.stop(), fetcher.stop()])
    }
  }
}
