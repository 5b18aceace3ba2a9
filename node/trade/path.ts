/**
 * Which connection a trade's bulk data takes (TRADE-20, DIRECT-12): a direct connection to the
 * seller; its relayed (limited) connection only when the relay's limits allow the transfer;
 * otherwise `TRADE_SELLER_UNREACHABLE` with the reason, within the buyer's deadline.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isBitwrkError } from '../../protocol/errors.js'
import type { TradeContext } from './context.js'
import { TradeCode, tradeError } from './errors.js'
import { TRADE_PROTOCOL } from './wire.js'

/** Why a buyer found no path for the trade's bulk data (`details.reason` of TRADE-20). */
export const TradePathReason = {
  /** Only a relayed connection, no upgrade worked, and there is no policy that allows the relay. */
  NO_DIRECT_PATH: 'no-direct-path',
  /** Only a relayed connection, no upgrade worked, and the relay's limits are too small. */
  RELAY_LIMIT: 'relay-limit'
} as const

/**
 * The node's bulk-data policy (implemented by `node/host/direct.ts`'s `DirectConnections`):
 * a direct connection, the relayed one when its limits allow `bytes`, or a `DIRECT_NO_PATH`
 * error whose `details.reason` is a {@link TradePathReason} value.
 */
export interface BulkPaths {
  bulkConnection(
    peer: PeerId,
    options: { signal?: AbortSignal; bytes?: number }
  ): Promise<Connection | undefined>
}

/**
 * Opens a trade stream to the seller (TRADE-2, TRADE-20): an existing direct connection, or a
 * new dial (bounded by `signals.dial`); when the connection is relayed, `ctx.direct` upgrades it or allows the relay, and
 * a refusal becomes `TRADE_SELLER_UNREACHABLE` with `details.reason`, thrown at once (the
 * upgrade already tried every method; a redial would only repeat it).
 */
export async function openTradeStream(
  ctx: TradeContext,
  peer: PeerId,
  targets: Multiaddr[] | PeerId,
  workBytes: number,
  txid: string,
  signals: { dial: AbortSignal; upgrade: AbortSignal }
): Promise<Stream> {
  const signal = signals.dial
  const open = ctx.libp2p.getConnections(peer).filter((c) => c.status === 'open')
  let conn = open.find((c) => c.limits === undefined) ?? open[0]
  conn ??= await ctx.libp2p.dial(targets, { signal })
  if (conn.limits === undefined) {
    ctx.onPath?.('direct')
    return conn.newStream(TRADE_PROTOCOL, { signal })
  }
  if (ctx.direct === undefined)
    throw tradeError(TradeCode.SELLER_UNREACHABLE, 'only a relayed connection to the seller', {
      txid,
      reason: TradePathReason.NO_DIRECT_PATH
    })
  let bulk: Connection | undefined
  try {
    // each upgrade method has its own deadline (DIRECT-7); the phase deadline bounds them all
    bulk = await ctx.direct.bulkConnection(peer, { signal: signals.upgrade, bytes: workBytes })
  } catch (err) {
    if (signals.upgrade.aborted) throw signals.upgrade.reason
    const details = isBitwrkError(err) ? (err.details as Record<string, unknown>) : {}
    throw tradeError(TradeCode.SELLER_UNREACHABLE, 'no path for the trade data to the seller', {
      txid,
      reason: details.reason ?? TradePathReason.NO_DIRECT_PATH,
      attempts: details.attempts,
      cause: isBitwrkError(err) ? err.code : String(err)
    })
  }
  const use = bulk ?? conn
  ctx.onPath?.(use.limits === undefined ? 'direct' : 'relayed')
  // TRADE-20: a relayed connection is used only after the policy allowed it
  return use.newStream(TRADE_PROTOCOL, { signal, runOnLimitedConnection: use.limits !== undefined })
}
