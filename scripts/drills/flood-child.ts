/**
 * Child process of the `invalid-bid-flood` drill: the attacker, in its own process so that
 * its CPU is not the honest nodes' CPU (as with a remote attacker). Starts a loopback host,
 * dials the relay, signs `count` well-formed bids with signatures by the wrong key, prints
 * `ready`, and on each line `flood N` on stdin publishes the next N of them as fast as
 * GossipSub takes them, printing `sent N` when done.
 * Usage: node flood-child.js <relayMultiaddr> <topic> <article> <count>
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../../node/host/host.js'
import { randomPrivateKey, testBid, waitFor } from '../../node/testing.js'
import { encodeSigned } from '../../protocol/bid/index.js'
import { Identity } from '../../protocol/identity/index.js'

async function run(relay: string, topic: string, article: string, count: number): Promise<void> {
  const host = await createHost({
    privateKey: randomPrivateKey(),
    loopbackOnly: true,
    gossip: { heartbeatIntervalMs: 100 }
  })
  const signer = Identity.generate((n) => new Uint8Array(randomBytes(n)))
  const forger = Identity.generate((n) => new Uint8Array(randomBytes(n)))
  const forged = Array.from({ length: count }, () => {
    const { bid } = testBid(article, { identity: signer })
    return encodeSigned({ document: bid.document, signature: forger.sign(bid.document) })
  })
  await host.libp2p.dial(multiaddr(relay), { signal: AbortSignal.timeout(10_000) })
  await waitFor(() => host.libp2p.services.pubsub.getSubscribers(topic).length > 0, {
    timeoutMs: 10_000,
    what: 'relay subscribed'
  })
  process.stdout.write(`ready ${host.peerId}\n`)
  let next = 0
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, n] = line.split(' ')
    if (cmd === 'stop') break
    if (cmd !== 'flood') continue
    const chunk = forged.slice(next, next + Number(n))
    next += chunk.length
    // batches of 100 publishes in flight: a fast attacker, not one waiting on itself
    for (let i = 0; i < chunk.length; i += 100)
      await Promise.all(chunk.slice(i, i + 100).map((m) => host.libp2p.services.pubsub.publish(topic, m)))
    process.stdout.write(`sent ${chunk.length}\n`)
  }
  await host.stop()
}

const [relay, topic, article, count] = process.argv.slice(2)
run(relay ?? '', topic ?? '', article ?? '', Number(count ?? '0')).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`)
    process.exit(1)
  }
)
