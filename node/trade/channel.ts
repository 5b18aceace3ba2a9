/**
 * What the trade needs from the market: a channel on which signed phase messages are
 * published so that both parties and any observer apply them to the same phase machine
 * (the market implements it over the transaction gossip topic), and waits on it that end at
 * the phase deadline (TX-13) with a typed error.
 */

import type { AbortOptions } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import type { Transaction, TxMessage } from '../../protocol/transaction/index.js'
import type { TradeClock } from './clock.js'
import { TradeCode, tradeError } from './errors.js'
import { abortReason } from './wire.js'

/**
 * A node's view of its transactions and the way to publish its own signed messages. An
 * implementation applies every message with the phase machine (`applyMessage`) at its own
 * clock, persists each accepted one before reporting it (DESIGN.md invariant 9), delivers it
 * to the other party and to observers, and retires each transaction by the rules when its
 * deadline comes (TX-18).
 */
export interface TxChannel {
  /**
   * Applies `message` to the local view, persists it and sends it to the others. Resolves with
   * the new local record; rejects with `TRADE_PUBLISH_REFUSED` (`details.txCode`) when the
   * phase machine refuses it.
   */
  publish(message: TxMessage, options?: AbortOptions): Promise<Transaction>
  /** The local record of `txid`, or undefined when unknown. */
  current(txid: string): Transaction | undefined
  /** Calls `listener` with every new record of `txid` (message or retirement); returns unsubscribe. */
  onChange(txid: string, listener: (tx: Transaction) => void): () => void
  /** Retires `txid` if its deadline has come (TX-18) and persists that; returns the current record. */
  retireDue(txid: string): Promise<Transaction | undefined>
}

/** Options of {@link waitForTx}. */
export interface WaitTxOptions extends AbortOptions {
  /** What is awaited, for the error details. */
  readonly what: string
}

/**
 * Waits until `until(tx)` returns true for the local record of `txid`. `until` may throw (a
 * BitwrkError) to stop waiting, e.g. when the transaction went to a phase that makes the wait
 * pointless. At the transaction's deadline (re-read after every change: deadlines extend) the
 * channel is asked to retire it, and unless `until` then holds the wait fails with
 * `TRADE_TIMEOUT`. A retired transaction for which `until` is false is `TRADE_UNEXPECTED_PHASE`.
 */
export function waitForTx(
  channel: TxChannel,
  clock: TradeClock,
  txid: string,
  until: (tx: Transaction) => boolean,
  options: WaitTxOptions
): Promise<Transaction> {
  return new Promise<Transaction>((resolve, reject) => {
    let settled = false
    let cancelTimer: (() => void) | undefined
    let armedFor: number | undefined
    const finish = (err: unknown, tx?: Transaction): void => {
      if (settled) return
      settled = true
      unsubscribe()
      cancelTimer?.()
      options.signal?.removeEventListener('abort', onAbort)
      if (tx !== undefined) resolve(tx)
      else reject(err)
    }
    const check = (tx: Transaction | undefined): void => {
      if (settled) return
      if (tx === undefined) {
        finish(tradeError(TradeCode.UNEXPECTED_PHASE, 'unknown transaction', { txid, what: options.what }))
        return
      }
      try {
        if (until(tx)) {
          finish(undefined, tx)
          return
        }
      } catch (err) {
        finish(err)
        return
      }
      if (tx.state === 'retired') {
        finish(
          tradeError(TradeCode.UNEXPECTED_PHASE, `transaction retired while waiting for ${options.what}`, {
            txid,
            phase: tx.phase
          })
        )
        return
      }
      if (armedFor !== tx.deadlineMs) {
        cancelTimer?.()
        armedFor = tx.deadlineMs
        cancelTimer = clock.timer(tx.deadlineMs, () => void onDeadline())
      }
    }
    const onDeadline = async (): Promise<void> => {
      let tx: Transaction | undefined
      try {
        tx = await channel.retireDue(txid)
      } catch {
        tx = channel.current(txid)
      }
      if (settled) return
      try {
        if (tx !== undefined && until(tx)) {
          finish(undefined, tx)
          return
        }
      } catch (err) {
        finish(err)
        return
      }
      finish(
        tradeError(TradeCode.TIMEOUT, `phase deadline passed waiting for ${options.what}`, {
          txid,
          phase: tx?.phase
        })
      )
    }
    const onAbort = (): void => finish(abortReason(options.signal))
    const unsubscribe = channel.onChange(txid, check)
    if (options.signal?.aborted === true) {
      onAbort()
      return
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    check(channel.current(txid))
  })
}

/**
 * An AbortSignal that fires at `atMs` on `clock` with a `TRADE_TIMEOUT` reason, or when
 * `parent` fires (with its reason). `dispose` releases the timer.
 */
export function deadlineSignal(
  clock: TradeClock,
  atMs: number,
  parent?: AbortSignal
): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController()
  const cancel = clock.timer(atMs, () =>
    ctl.abort(tradeError(TradeCode.TIMEOUT, 'phase deadline passed', { deadlineMs: atMs }))
  )
  const onParent = (): void => ctl.abort(parent?.reason)
  if (parent?.aborted === true) onParent()
  else parent?.addEventListener('abort', onParent, { once: true })
  return {
    signal: ctl.signal,
    dispose: () => {
      cancel()
      parent?.removeEventListener('abort', onParent)
    }
  }
}

/** Publishes and maps a refusal of our own message to `TRADE_PUBLISH_REFUSED`. */
export async function publishOrThrow(
  channel: TxChannel,
  message: TxMessage,
  options?: AbortOptions
): Promise<Transaction> {
  try {
    return await channel.publish(message, options)
  } catch (err) {
    if (isBitwrkError(err, TradeCode.PUBLISH_REFUSED)) throw err
    if (isBitwrkError(err))
      throw tradeError(TradeCode.PUBLISH_REFUSED, 'own message refused', { txCode: err.code })
    throw err
  }
}

/**
 * A {@link waitForTx} predicate for a trade session (TRADE-6): true once the transaction is in
 * TRANSMITTING, false while it is in one of the phases `before` it, and `TRADE_UNEXPECTED_PHASE`
 * (with `message`) in any other phase.
 */
export function untilTransmitting(
  before: ReadonlySet<string>,
  message: string
): (tx: Transaction) => boolean {
  return (t) => {
    if (t.phase === 'TRANSMITTING') return true
    if (!before.has(t.phase)) throw tradeError(TradeCode.UNEXPECTED_PHASE, message, { phase: t.phase })
    return false
  }
}
