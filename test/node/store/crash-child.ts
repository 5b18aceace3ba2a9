/**
 * Child process of the crash-safety test: writes own bids, used marks and transactions with
 * their messages into a data directory as fast as it can, printing one line per completed
 * (durable) step, until the parent kills it with SIGKILL.
 * Usage: node crash-child.js <dataDir> <firstIndex>
 */
import { randomBytes } from 'node:crypto'
import { openDataDir } from '../../../node/store/index.js'
import { bid, signed, T0, termsN } from './helpers.js'

const KINDS = ['establish-buyer', 'establish-seller', 'publish-secret'] as const

async function run(dir: string, first: number): Promise<void> {
  const data = await openDataDir(dir, { nowMs: T0, random: (n) => new Uint8Array(randomBytes(n)) })
  for (let i = first; ; i++) {
    const terms = termsN(i)
    await data.bids.put(bid(terms.buyBidId, T0 + 3_600_000))
    let tx = await data.transactions.create(terms)
    await data.bids.markUsed(terms.buyBidId, tx.id)
    process.stdout.write(`${i} used\n`)
    for (const [k, kind] of KINDS.entries()) {
      const r = await data.transactions.apply(tx, signed(terms, kind), T0 + 1000 * (k + 1))
      if (!r.ok) throw new Error(`refused ${r.code}`)
      tx = r.tx
      process.stdout.write(`${i} msg ${k + 1}\n`)
    }
  }
}

const [dir, first] = process.argv.slice(2)
run(dir ?? '', Number(first ?? '0')).catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`)
  process.exit(1)
})
