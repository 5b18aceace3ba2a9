/**
 * Child process of the `memory-flood` drill: the attackers, in their own process so that the
 * victim's RSS is measured alone. Starts `<identities>` fresh loopback hosts (fresh keys: free
 * identities) connected to the victim and prints `ready <n>`; an identity the victim drops is
 * replaced by a fresh one at once. Each line `flood <phase> <ms>` on
 * stdin runs one phase for that long and prints `done <phase> <json figures>`:
 * - `trade`: streams on `/bitwrk/trade/1.0.0` that send HELLO for a made-up transaction, then
 *   push bytes without reading any answer;
 * - `sync`: streams on `/bitwrk/sync/1.0.0` that send a SUMMARY_REQ, then push bytes;
 * - `chunk`: streams on `/bitwrk/chunk/1.0.0`, half sending a HAVE then pushing bytes, half a
 *   GET of chunks the victim holds (`<keysHex>`) whose answers are never read;
 * - `yamux`: fresh connections whose first Yamux data frame declares 1 GiB, then its body;
 * - `all`: every one of these at once.
 * Each identity keeps `<streams>` streams per protocol going (above every per-peer cap) and
 * reopens whatever the victim cuts. Usage:
 * node memory-flood-child.js <victimMultiaddr> <identities> <streams> <article> <keysHex,…>
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import type { MessageStream, Stream } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { CHUNK_PROTOCOL, encodeHave } from '../../cafs/adapters/libp2p/index.js'
import { encodeFrame, encodeGet } from '../../cafs/transfer/index.js'
import { type BitwrkHost, createHost } from '../../node/host/host.js'
import { encodeRequest, SYNC_PROTOCOL } from '../../node/sync/index.js'
import { randomPrivateKey, yamuxFrameHeader } from '../../node/testing.js'
import { encodeTradeFrame, TRADE_PROTOCOL, TradeMsg } from '../../node/trade/index.js'

/** What one phase saw, summed over all identities. */
interface PhaseStats {
  /** Fresh identities made because the victim dropped (banned) the one before. */
  renewed: number
  /** Streams (or, for yamux, connections) opened. */
  opened: number
  /** Stream or connection opens that failed (reset during negotiation, refused dial). */
  refused: number
  /** Streams or connections the victim cut while we were pushing. */
  cut: number
  /** Bytes the victim's flow control accepted from us. */
  pushedBytes: number
}

/** One push of junk; the attacker never sends more while earlier bytes wait unsent. */
const JUNK = new Uint8Array(randomBytes(64 << 10))
/** Pause after a refused open, ms: keeps a refused attacker from spinning on one core. */
const RETRY_MS = 20

type Phase = 'trade' | 'sync' | 'chunk' | 'yamux'

/** Resolves after `ms` or at `stop` (pacing the attacker, never a wait for a condition). */
function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      stop.removeEventListener('abort', done)
      resolve()
    }
    stop.addEventListener('abort', done, { once: true })
  })
}

/** Something we push bytes into: a stream, or a connection's raw Yamux bytes. */
type Pushable = Pick<
  MessageStream,
  'send' | 'status' | 'writeBufferLength' | 'addEventListener' | 'removeEventListener'
>

/** Pushes junk into `out` until the victim cuts it (true) or `stop` fires (false). */
async function push(out: Pushable, stats: PhaseStats, stop: AbortSignal): Promise<boolean> {
  while (!stop.aborted) {
    if (out.status !== 'open') return true
    if (out.writeBufferLength > 0) {
      // wait for the victim's flow control (or the cut), at most 100 ms between looks
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t)
          out.removeEventListener('drain', done)
          out.removeEventListener('close', done)
          resolve()
        }
        const t = setTimeout(done, 100)
        out.addEventListener('drain', done)
        out.addEventListener('close', done)
      })
      continue
    }
    try {
      out.send(JUNK)
    } catch {
      return true
    }
    stats.pushedBytes += JUNK.length - out.writeBufferLength
  }
  return false
}

/** One attacker identity; when the victim drops it, the next fresh one takes its place. */
/**
 * Failed opens in a row after which an attacker takes a fresh identity even while it still has a
 * connection: the victim's own DHT traffic (provide announcements, CHUNK-18) may keep a connection
 * to a peer whose streams it refuses, and a real attacker would not keep knocking with that id.
 */
const RENEW_AFTER_FAILURES = 3

class Attacker {
  host: BitwrkHost | undefined
  private renewing: Promise<void> | undefined
  private failures = 0

  constructor(private readonly victim: Multiaddr) {}

  /** Starts a fresh identity connected to the victim. */
  async start(): Promise<void> {
    const h = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true, dhtSelfQuery: false })
    this.host = h
    await h.libp2p.dial(this.victim, { signal: AbortSignal.timeout(10_000) })
  }

  /**
   * Opens a stream or connection with `how` (5 s at most): counted as opened, or as refused
   * (then a fresh identity if this one was dropped, and a short pause) and undefined.
   */
  async open<T>(
    stats: PhaseStats,
    stop: AbortSignal,
    how: (host: BitwrkHost, signal: AbortSignal) => Promise<T>
  ): Promise<T | undefined> {
    try {
      if (this.host === undefined) throw new Error('renewing')
      const opened = await how(this.host, AbortSignal.any([stop, AbortSignal.timeout(5000)]))
      stats.opened++
      this.failures = 0
      return opened
    } catch {
      stats.refused++
      await this.afterFailure(stats)
      await pause(RETRY_MS, stop)
      return undefined
    }
  }

  /**
   * After a failed open: a fresh identity when this one lost its connection (dropped) or was
   * refused {@link RENEW_AFTER_FAILURES} times in a row.
   */
  afterFailure(stats: PhaseStats): Promise<void> {
    const h = this.host
    this.failures++
    if (h === undefined || (h.libp2p.getConnections().length > 0 && this.failures < RENEW_AFTER_FAILURES))
      return Promise.resolve()
    this.failures = 0
    this.renewing ??= (async () => {
      stats.renewed++
      this.host = undefined
      // not awaited: a stop that waits on the victim must not hold up the next identity
      void h.stop().catch(() => {})
      await this.start().catch(() => {})
    })().finally(() => {
      this.renewing = undefined
    })
    return this.renewing
  }
}

/** Keeps one stream of `protocol` going: open, send `first()`, then junk (or nothing), reopen. */
async function streamLoop(
  a: Attacker,
  victim: Multiaddr,
  protocol: string,
  first: () => Uint8Array,
  junk: boolean,
  stats: PhaseStats,
  stop: AbortSignal
): Promise<void> {
  while (!stop.aborted) {
    const s = await a.open(stats, stop, (h, signal) => h.libp2p.dialProtocol(victim, protocol, { signal }))
    if (s === undefined) continue
    try {
      s.send(first())
    } catch {
      stats.refused++
      continue
    }
    if (junk ? await push(s, stats, stop) : await held(s, stop)) stats.cut++
    s.abort(new Error('attack over'))
  }
}

/**
 * Holds `s` open without reading until the victim cuts it (true) or `stop` fires (false):
 * paused, so Yamux grants the victim no window beyond the first and its answers wait at its end.
 */
async function held(s: Stream, stop: AbortSignal): Promise<boolean> {
  if (s.status !== 'open') return true
  s.pause()
  await new Promise<void>((resolve) => {
    const done = (): void => {
      s.removeEventListener('close', done)
      stop.removeEventListener('abort', done)
      resolve()
    }
    s.addEventListener('close', done)
    stop.addEventListener('abort', done, { once: true })
  })
  return !stop.aborted
}

/** Fresh connections whose first data frame declares 1 GiB, its body pushed until the cut. */
async function yamuxLoop(
  a: Attacker,
  victim: Multiaddr,
  stats: PhaseStats,
  stop: AbortSignal
): Promise<void> {
  while (!stop.aborted) {
    const conn = await a.open(stats, stop, (h, signal) => h.libp2p.dial(victim, { force: true, signal }))
    if (conn === undefined) continue
    // below Yamux: the muxer's encrypted byte stream (a js-libp2p internal)
    const raw = (conn as unknown as { muxer?: { maConn: MessageStream; nextStreamID: number } }).muxer
    if (raw === undefined) throw new Error('no muxer on the connection')
    const id = raw.nextStreamID
    raw.nextStreamID += 2
    // window update with SYN (type 1, flag 1), then a data frame (type 0) declaring 1 GiB
    raw.maConn.send(yamuxFrameHeader(1, 1, id, 0))
    raw.maConn.send(yamuxFrameHeader(0, 0, id, 2 ** 30))
    if (await push(raw.maConn, stats, stop)) stats.cut++
    conn.abort(new Error('attack over'))
  }
}

async function run(addr: string, identities: number, streams: number, article: string, keysHex: string) {
  const victim = multiaddr(addr)
  const keys = keysHex
    .split(',')
    .filter((k) => k.length === 64)
    .map((k) => new Uint8Array(Buffer.from(k, 'hex')))
  const attackers: Attacker[] = []
  // a few at a time: dozens of simultaneous Noise handshakes can exceed libp2p's upgrade timeout
  for (let i = 0; i < identities; i += 4)
    await Promise.all(
      Array.from({ length: Math.min(4, identities - i) }, async () => {
        const a = new Attacker(victim)
        attackers.push(a)
        await a.start()
      })
    )
  process.stdout.write(`ready ${attackers.length}\n`)
  const helloOf = (): Uint8Array => encodeTradeFrame(TradeMsg.HELLO, new Uint8Array(randomBytes(32)))
  const summary = encodeFrame(encodeRequest({ type: 'summaryReq', article, bits: 0 }))
  const have = (): Uint8Array => encodeFrame(encodeHave([new Uint8Array(randomBytes(32))]))
  const get = encodeFrame(encodeGet(keys.length > 0 ? keys : [new Uint8Array(32)]))
  const loops = (phase: Phase, h: Attacker, stats: PhaseStats, stop: AbortSignal): Promise<void>[] => {
    const each = (fn: (i: number) => Promise<void>) => Array.from({ length: streams }, (_, i) => fn(i))
    switch (phase) {
      case 'trade':
        return each(() => streamLoop(h, victim, TRADE_PROTOCOL, helloOf, true, stats, stop))
      case 'sync':
        return each(() => streamLoop(h, victim, SYNC_PROTOCOL, () => summary, true, stats, stop))
      case 'chunk':
        return each((i) =>
          i % 2 === 0
            ? streamLoop(h, victim, CHUNK_PROTOCOL, have, true, stats, stop)
            : streamLoop(h, victim, CHUNK_PROTOCOL, () => get, false, stats, stop)
        )
      case 'yamux':
        return [yamuxLoop(h, victim, stats, stop)]
    }
  }
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, name, ms] = line.split(' ')
    if (cmd === 'stop') break
    if (cmd !== 'flood') continue
    const phases: Phase[] = name === 'all' ? ['trade', 'sync', 'chunk', 'yamux'] : [name as Phase]
    const stats: PhaseStats = { renewed: 0, opened: 0, refused: 0, cut: 0, pushedBytes: 0 }
    const stop = AbortSignal.timeout(Number(ms))
    await Promise.all(attackers.flatMap((a) => phases.flatMap((p) => loops(p, a, stats, stop))))
    process.stdout.write(`done ${name} ${JSON.stringify(stats)}\n`)
  }
  await Promise.all(attackers.map((a) => a.host?.stop()))
}

const [addr, identities, streams, article, keysHex] = process.argv.slice(2)
run(addr ?? '', Number(identities ?? '1'), Number(streams ?? '1'), article ?? '', keysHex ?? '').then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`)
    process.exit(1)
  }
)
