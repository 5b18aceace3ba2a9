/**
 * Child process of the `crash-restart` drill: a node on a data directory plus a LevelDB chunk
 * store in `<dataDir>/chunks`, driven by stdin lines until the parent SIGKILLs it:
 * - `sell <satoshi>`: places a SELL, prints `bid <id>`;
 * - `import <bytes>`: imports that many random bytes, prints `file <fileKeyHex> <n> <keys,…>`;
 * - `churn`: imports random files forever, printing `churn <chunks stored so far>`.
 * Prints `ready <peerId>` once connected to `<peer>`, `tx <id> <phase>` when a transaction
 * establishes.
 * Usage: node crash-node-child.js <dataDir> <peerMultiaddr> <article> <epochMs> <settleMs>
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { importStream } from '../../cafs/stream.js'
import { createBitwrkNode } from '../../node/node.js'
import { money } from '../../protocol/money/index.js'

const out = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

/** Random data in 64 KiB pieces (a stream, as a real upload). */
function* randomPieces(total: number): Generator<Uint8Array> {
  for (let left = total; left > 0; left -= 65_536) yield new Uint8Array(randomBytes(Math.min(left, 65_536)))
}

async function run(dir: string, peer: string, article: string, epochMs: number, settleMs: number) {
  const node = await createBitwrkNode({
    dataDir: dir,
    articles: [article],
    loopbackOnly: true,
    epochParams: { epochMs, settleMs },
    gossip: { heartbeatIntervalMs: 100 },
    host: { dhtSelfQuery: false }
  })
  node.market.addEventListener('tx:established', (e) => out(`tx ${e.detail.tx.id} ${e.detail.tx.phase}`))
  await node.start()
  // the node's own LevelDB chunk store at <dir>/chunks (one process may open it only once)
  const chunks = node.chunks
  await node.host.libp2p.dial(multiaddr(peer), { signal: AbortSignal.timeout(10_000) })
  out(`ready ${node.peerId}`)
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.split(' ')
    if (cmd === 'sell') {
      const bid = await node.placeBid({ article, side: 'SELL', price: money('BTC', BigInt(arg ?? '0')) })
      out(`bid ${bid.id}`)
    } else if (cmd === 'import') {
      const m = await importStream(randomPieces(Number(arg)), chunks)
      const keys = m.chunks.map((c) => Buffer.from(c.key).toString('hex')).join(',')
      out(`file ${Buffer.from(m.fileKey).toString('hex')} ${m.chunks.length} ${keys}`)
    } else if (cmd === 'churn') {
      // not awaited: the parent kills the process in the middle of these writes
      void (async () => {
        for (;;) {
          await importStream(randomPieces(1 << 20), chunks)
          out(`churn ${chunks.stats().chunks}`)
        }
      })()
    }
  }
}

const [dir, peer, article, epochMs, settleMs] = process.argv.slice(2)
run(dir ?? '', peer ?? '', article ?? '', Number(epochMs), Number(settleMs)).catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`)
  process.exit(1)
})
