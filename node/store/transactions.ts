/**
 * Transactions (README.md buckets `tx`, `txMessage`, `txOpen`, `txRetired`). The signed
 * messages, in order of acceptance with their receive times, are the source of truth; the
 * header holds the match terms and a cached state that must agree with a replay of the
 * messages through the phase machine of `protocol/transaction` (no rule is re-implemented
 * here). Every write of a transaction is one atomic, synced batch: a crash never leaves a
 * partial message list (DESIGN.md invariant 9).
 */
import { isArticle } from '../../protocol/article/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { isMoney, type Money } from '../../protocol/money/index.js'
import {
  type ApplyResult,
  applyMessage,
  createTransaction,
  decodeTxMessage,
  encodeTxMessage,
  isDue,
  isTxid,
  MAX_TX_MESSAGE_BYTES,
  type MatchTerms,
  PHASES,
  type Phase,
  retire,
  type Transaction,
  type TxMessage
} from '../../protocol/transaction/index.js'
import {
  check,
  concat,
  corrupt,
  decodeSealed,
  type Reader,
  readU64,
  seal,
  u64Bytes,
  Writer
} from './codec.js'
import { Bucket, type KvController, type KvOp, Mutex, prefixRange } from './db.js'
import { faultOf, type Listing, StoreCode, type StoreFault, storeError } from './errors.js'

/**
 * Most messages stored per transaction. The longest path of the phase machine accepts 5
 * (establish-buyer, establish-seller, publish-secret, transmit-finished, accept/reject-result);
 * 8 leaves room and still bounds what a corrupt header can make us read (invariant 10).
 */
export const MAX_TX_MESSAGES = 8

/** A stored message: the signed message as accepted and the receiver's clock at acceptance. */
export interface StoredTxMessage {
  /** The signed message exactly as accepted (its wire encoding is what is stored). */
  readonly message: TxMessage
  /** nowMs of its acceptance; replaying at this time reproduces the record exactly. */
  readonly receivedMs: number
}

/** The header of a stored transaction: terms plus the cached state (README.md). */
export interface TxHeader {
  /** Terms of the match. */
  readonly terms: MatchTerms
  /** Cached state. */
  readonly state: 'active' | 'retired'
  /** Cached phase. */
  readonly phase: Phase
  /** Cached revision. */
  readonly revision: number
  /** Cached deadline. */
  readonly deadlineMs: number
  /** Number of stored messages. */
  readonly messageCount: number
  /** Retirement time, or null while active. */
  readonly retiredMs: number | null
}

/** What {@link TransactionRepository.recover} did with each open transaction. */
export interface RecoveryReport {
  /** Still active at nowMs: resume them. */
  readonly resumed: Transaction[]
  /** Due at nowMs: retired now by the phase rules (TX-18, TX-19) and saved. */
  readonly retired: Transaction[]
  /** Open transactions that could not be loaded; left untouched on disk. */
  readonly corrupt: StoreFault[]
}

const STATES = ['active', 'retired'] as const

function txKeyPart(txid: string): Uint8Array {
  return Buffer.from(txid, 'hex')
}

/** Key of a transaction header. */
export function txKey(txid: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.tx), txKeyPart(txid))
}

/** Key of message number `seq` of a transaction. */
export function txMessageKey(txid: string, seq: number): Uint8Array {
  const s = new Uint8Array(4)
  new DataView(s.buffer).setUint32(0, seq)
  return concat(Uint8Array.of(Bucket.txMessage), txKeyPart(txid), s)
}

function openKey(txid: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.txOpen), txKeyPart(txid))
}

function retiredKey(retiredMs: number, txid: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.txRetired), u64Bytes(retiredMs), txKeyPart(txid))
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function writeTerms(w: Writer, t: MatchTerms): Writer {
  return w
    .str(t.buyBidId)
    .str(t.sellBidId)
    .str(t.buyer)
    .str(t.seller)
    .str(t.buyerPeerId)
    .str(t.sellerPeerId)
    .str(t.article)
    .str(t.price.currency)
    .str(t.price.amount.toString())
    .u64(t.matchedMs)
}

const AMOUNT = /^-?(0|[1-9][0-9]{0,39})$/

function readTerms(r: Reader): MatchTerms {
  const buyBidId = r.str(128)
  const sellBidId = r.str(128)
  const buyer = r.str(64)
  const seller = r.str(64)
  const buyerPeerId = r.str(128)
  const sellerPeerId = r.str(128)
  const article = r.str(512)
  const currency = r.str(8)
  const amountText = r.str(41)
  const matchedMs = r.u64()
  check(AMOUNT.test(amountText), 'bad price amount')
  const price = { currency, amount: BigInt(amountText) }
  check(isMoney(price), 'bad price')
  check(isArticle(article), 'bad article')
  return {
    buyBidId,
    sellBidId,
    buyer,
    seller,
    buyerPeerId,
    sellerPeerId,
    article,
    price: price as Money,
    matchedMs
  }
}

/** Payload of a transaction header (README.md). */
export function encodeTxHeader(h: TxHeader): Uint8Array {
  const w = writeTerms(new Writer(), h.terms)
    .u8(STATES.indexOf(h.state))
    .u8(PHASES.indexOf(h.phase))
    .u32(h.revision)
    .u64(h.deadlineMs)
    .u32(h.messageCount)
  if (h.retiredMs === null) w.u8(0)
  else w.u8(1).u64(h.retiredMs)
  return w.finish()
}

/**
 * Decodes a sealed header stored under `key` and validates it: the terms must make a valid
 * match (createTransaction) whose id is the key's; STORE_CORRUPT otherwise.
 */
export function decodeTxHeader(key: Uint8Array, value: Uint8Array): TxHeader {
  const h = decodeSealed(key, value, (r): TxHeader => {
    const terms = readTerms(r)
    const state = STATES[r.u8()]
    const phase = PHASES[r.u8()]
    const revision = r.u32()
    const deadlineMs = r.u64()
    const messageCount = r.u32()
    const flag = r.u8()
    check(flag === 0 || flag === 1, 'bad retired flag')
    const retiredMs = flag === 1 ? r.u64() : null
    check(state !== undefined && phase !== undefined, 'bad state or phase')
    return { terms, state, phase, revision, deadlineMs, messageCount, retiredMs }
  })
  check(h.messageCount <= MAX_TX_MESSAGES, 'too many messages')
  check((h.state === 'retired') === (h.retiredMs !== null), 'retired time does not match state')
  let id: string
  try {
    id = createTransaction(h.terms).id
  } catch {
    return corrupt('terms are not a valid match')
  }
  check(txKey(id).length === key.length && hexOf(key.subarray(1)) === id, 'header does not match its key')
  return Object.freeze({ ...h, terms: Object.freeze(h.terms) })
}

/** Payload of a stored message: receivedMs (u64) and the message's wire encoding (TX-6). */
export function encodeStoredMessage(m: StoredTxMessage): Uint8Array {
  return new Writer().u64(m.receivedMs).bytes(encodeTxMessage(m.message)).finish()
}

/** Decodes a sealed stored message (STORE_CORRUPT when it does not decode). */
export function decodeStoredMessage(key: Uint8Array, value: Uint8Array): StoredTxMessage {
  return decodeSealed(key, value, (r) => {
    const receivedMs = r.u64()
    const bytes = r.bytes(MAX_TX_MESSAGE_BYTES)
    let message: TxMessage
    try {
      message = decodeTxMessage(bytes)
    } catch {
      return corrupt('stored message does not decode')
    }
    return Object.freeze({ message, receivedMs })
  })
}

function headerOf(tx: Transaction): TxHeader {
  return {
    terms: tx.terms,
    state: tx.state,
    phase: tx.phase,
    revision: tx.revision,
    deadlineMs: tx.deadlineMs,
    messageCount: tx.evidence.length,
    retiredMs: tx.retiredMs
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The repository of transactions. */
export class TransactionRepository {
  private readonly lock = new Mutex()

  constructor(private readonly kv: KvController) {}

  /** Creates and stores the transaction of a match (TX-2); STORE_TX_EXISTS if stored already. */
  create(terms: MatchTerms): Promise<Transaction> {
    const tx = createTransaction(terms)
    return this.lock.run(async () => {
      if ((await this.kv.get(txKey(tx.id))) !== undefined)
        throw storeError(StoreCode.TX_EXISTS, 'transaction exists', { txid: tx.id })
      await this.kv.batch(this.writeOps(tx, 0, null), { sync: true })
      return tx
    })
  }

  /**
   * Applies `message` received at `nowMs` to `tx` (the caller's current record) with the phase
   * machine and, when accepted, stores the message and the new state in one synced batch.
   * Refused messages are not stored. STORE_TX_CONFLICT when the store holds another revision.
   */
  async apply(tx: Transaction, message: TxMessage, nowMs: number): Promise<ApplyResult> {
    const result = applyMessage(tx, message, nowMs)
    if (result.ok) await this.save(result.tx, tx.revision)
    return result
  }

  /**
   * Saves `tx`: appends the messages the store does not hold yet and updates the cached header
   * and the indexes, atomically. The stored messages must be a prefix of `tx.evidence` and the
   * terms must not change (STORE_TX_CONFLICT otherwise); with `expectRevision`, the stored
   * revision must equal it.
   */
  save(tx: Transaction, expectRevision?: number): Promise<void> {
    if (!isTxid(tx.id)) throw storeError(StoreCode.INVALID, 'invalid transaction id')
    if (tx.evidence.length > MAX_TX_MESSAGES) throw storeError(StoreCode.INVALID, 'too many messages')
    return this.lock.run(async () => {
      const key = txKey(tx.id)
      const raw = await this.kv.get(key)
      if (raw === undefined) {
        if (expectRevision !== undefined)
          throw storeError(StoreCode.TX_UNKNOWN, 'transaction not stored', { txid: tx.id })
        await this.kv.batch(this.writeOps(tx, 0, null), { sync: true })
        return
      }
      const stored = decodeTxHeader(key, raw)
      const conflict = (why: string): never => {
        throw storeError(StoreCode.TX_CONFLICT, `transaction conflict: ${why}`, { txid: tx.id })
      }
      if (expectRevision !== undefined && stored.revision !== expectRevision) conflict('stale revision')
      if (stored.revision > tx.revision || stored.messageCount > tx.evidence.length)
        conflict('older than stored')
      if (stored.state === 'retired' && tx.state !== 'retired') conflict('stored one is retired')
      if (
        !sameBytes(
          writeTerms(new Writer(), stored.terms).finish(),
          writeTerms(new Writer(), tx.terms).finish()
        )
      )
        conflict('terms differ')
      const messages = await this.readMessages(tx.id, stored.messageCount)
      messages.forEach((m, i) => {
        const e = tx.evidence[i]
        if (
          e === undefined ||
          e.receivedMs !== m.receivedMs ||
          !sameBytes(encodeTxMessage(e.message), encodeTxMessage(m.message))
        )
          conflict('stored messages are not a prefix')
      })
      await this.kv.batch(this.writeOps(tx, stored.messageCount, stored), { sync: true })
    })
  }

  /** The batch that writes `tx` given that `from` messages and `stored` header are on disk. */
  private writeOps(tx: Transaction, from: number, stored: TxHeader | null): KvOp[] {
    const ops: KvOp[] = []
    for (let i = from; i < tx.evidence.length; i++) {
      const e = tx.evidence[i]!
      const k = txMessageKey(tx.id, i)
      ops.push({
        type: 'put',
        key: k,
        value: seal(k, encodeStoredMessage({ message: e.message, receivedMs: e.receivedMs }))
      })
    }
    const key = txKey(tx.id)
    ops.push({ type: 'put', key, value: seal(key, encodeTxHeader(headerOf(tx))) })
    if (tx.state === 'active') ops.push({ type: 'put', key: openKey(tx.id), value: new Uint8Array(0) })
    else {
      ops.push({ type: 'del', key: openKey(tx.id) })
      if (stored?.retiredMs != null && stored.retiredMs !== tx.retiredMs)
        ops.push({ type: 'del', key: retiredKey(stored.retiredMs, tx.id) })
      ops.push({ type: 'put', key: retiredKey(tx.retiredMs ?? 0, tx.id), value: new Uint8Array(0) })
    }
    return ops
  }

  /** Reads messages 0..count-1; STORE_CORRUPT when any is missing, extra or unreadable. */
  private async readMessages(txid: string, count: number): Promise<StoredTxMessage[]> {
    const out: StoredTxMessage[] = []
    const range = prefixRange(concat(Uint8Array.of(Bucket.txMessage), txKeyPart(txid)))
    for await (const [k, v] of this.kv.entries({ ...range, limit: MAX_TX_MESSAGES + 1 })) {
      // Key: prefix (1) ‖ txid (32) ‖ seq (4).
      check(k.length === 37, 'bad message key')
      const seq = new DataView(k.buffer, k.byteOffset + 33, 4).getUint32(0)
      check(seq === out.length, 'message sequence has a gap')
      out.push(decodeStoredMessage(k, v))
    }
    check(out.length === count, 'message count differs from the header')
    return out
  }

  /** The cached header of `txid` (no replay), or undefined; STORE_CORRUPT when unreadable. */
  async header(txid: string): Promise<TxHeader | undefined> {
    const key = txKey(txid)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodeTxHeader(key, v)
  }

  /** The stored messages of `txid` in order ([] when unknown). */
  async messages(txid: string): Promise<StoredTxMessage[]> {
    const h = await this.header(txid)
    return h === undefined ? [] : this.readMessages(txid, h.messageCount)
  }

  /**
   * Loads `txid` by replaying its messages through the phase machine from the match terms
   * (and retiring it at the stored time when retired). STORE_CORRUPT when a message is
   * refused by the replay or the result disagrees with the cached header.
   */
  async get(txid: string): Promise<Transaction | undefined> {
    if (!isTxid(txid)) throw storeError(StoreCode.INVALID, 'invalid transaction id')
    const h = await this.header(txid)
    if (h === undefined) return undefined
    const messages = await this.readMessages(txid, h.messageCount)
    let tx = createTransaction(h.terms)
    for (const m of messages) {
      const r = applyMessage(tx, m.message, m.receivedMs)
      if (!r.ok) throw storeError(StoreCode.CORRUPT, `stored message refused on replay (${r.code})`, { txid })
      tx = r.tx
    }
    if (h.retiredMs !== null) {
      const r = retire(tx, h.retiredMs)
      if (!r.ok)
        throw storeError(StoreCode.CORRUPT, `stored retirement refused on replay (${r.code})`, { txid })
      tx = r.tx
    }
    check(
      tx.phase === h.phase &&
        tx.revision === h.revision &&
        tx.deadlineMs === h.deadlineMs &&
        tx.state === h.state,
      'cached state differs from the replay'
    )
    return tx
  }

  /** Ids of the active transactions (index order). */
  async openIds(): Promise<string[]> {
    const ids: string[] = []
    for await (const [k] of this.kv.entries(prefixRange(Uint8Array.of(Bucket.txOpen))))
      ids.push(hexOf(k.subarray(1)))
    return ids
  }

  /** Every active transaction, replayed; unreadable ones are reported. */
  async listOpen(): Promise<Listing<Transaction>> {
    const items: Transaction[] = []
    const corrupt: StoreFault[] = []
    for (const id of await this.openIds()) {
      try {
        items.push(await this.loadOpen(id))
      } catch (err) {
        corrupt.push(faultOf('txOpen', openKey(id), err))
      }
    }
    return { items, corrupt }
  }

  private async loadOpen(id: string): Promise<Transaction> {
    const tx = await this.get(id)
    check(tx !== undefined, 'open index entry without a transaction')
    check(tx.state === 'active', 'open index entry of a retired transaction')
    return tx
  }

  /**
   * Restart recovery (DESIGN.md invariant 9): loads every open transaction and applies the
   * phase machine's retirement rule at `nowMs` (`isDue`, `retire`): due ones are retired and
   * saved, the others are returned to be resumed. Unreadable ones are reported, not touched.
   */
  async recover(nowMs: number): Promise<RecoveryReport> {
    const { items, corrupt } = await this.listOpen()
    const resumed: Transaction[] = []
    const retired: Transaction[] = []
    for (const tx of items) {
      if (!isDue(tx, nowMs)) {
        resumed.push(tx)
        continue
      }
      const r = retire(tx, nowMs)
      if (!r.ok) throw new BitwrkError(r.code, 'retire refused a due transaction')
      await this.save(r.tx, tx.revision)
      retired.push(r.tx)
    }
    return { resumed, retired, corrupt }
  }

  /** Deletes retired transactions with retiredMs < `beforeMs` (header, messages, index). */
  pruneRetired(beforeMs: number): Promise<number> {
    return this.lock.run(async () => {
      const ops: KvOp[] = []
      let n = 0
      const range = prefixRange(Uint8Array.of(Bucket.txRetired))
      for await (const [k] of this.kv.entries({ gte: range.gte, lt: retiredKey(beforeMs, '') })) {
        readU64(k, 1)
        const id = hexOf(k.subarray(9))
        ops.push({ type: 'del', key: k }, { type: 'del', key: txKey(id) })
        const msgs = prefixRange(concat(Uint8Array.of(Bucket.txMessage), txKeyPart(id)))
        for await (const [mk] of this.kv.entries({ ...msgs, limit: MAX_TX_MESSAGES + 1 }))
          ops.push({ type: 'del', key: mk })
        n++
      }
      await this.kv.batch(ops)
      return n
    })
  }
}
