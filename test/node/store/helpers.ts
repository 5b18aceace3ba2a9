/** Shared fixtures of the store tests: backends (memory and LevelDB), temp dirs, transactions. */
import assert from 'node:assert/strict'
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createMemoryBacking,
  createMemoryController,
  type KvController,
  openLevelController,
  openStore,
  type Repositories,
  type StoredBid
} from '../../../node/store/index.js'
import {
  applyMessage,
  createTransaction,
  type MatchTerms,
  type MessageKind,
  type Phase,
  signReceipt,
  signTxMessage,
  type Transaction,
  type TxMessage,
  transactionId
} from '../../../protocol/transaction/index.js'
import { BUYER, CONTENT, PATHS, SELLER, SIGNER, T0, TERMS } from '../../transaction/helpers.js'

/** A store backend under test: opens a controller, and reopens one over the same data. */
export interface Backend {
  /** Name in test titles. */
  readonly name: 'memory' | 'level'
  /** A fresh, empty controller. */
  open(): Promise<KvController>
  /** Another controller over the data of the last `open()` (after closing the previous one). */
  reopen(): Promise<KvController>
  /** Removes temp data. */
  cleanup(): Promise<void>
}

/** Makes a temp directory that `cleanup` removes. */
export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'bitwrk-store-'))
}

/** Every path below `dir` (`.` itself, `./db/CURRENT` …) with its permission bits. */
export async function modesBelow(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const visit = async (path: string, rel: string): Promise<void> => {
    const st = await lstat(path)
    out.set(rel, st.mode & 0o777)
    if (st.isDirectory())
      for (const name of await readdir(path)) await visit(join(path, name), `${rel}/${name}`)
  }
  await visit(dir, '.')
  return out
}

/** Entries below `dir` that group or others may access, as `path mode` lines (empty: owner-only). */
export async function sharedEntries(dir: string): Promise<string[]> {
  return [...(await modesBelow(dir))]
    .filter(([, m]) => (m & 0o077) !== 0)
    .map(([p, m]) => `${p} ${m.toString(8)}`)
}

/** The memory backend. */
export function memoryBackend(): Backend {
  let backing = createMemoryBacking()
  return {
    name: 'memory',
    async open() {
      backing = createMemoryBacking()
      return createMemoryController(backing)
    },
    async reopen() {
      return createMemoryController(backing)
    },
    async cleanup() {}
  }
}

/** The LevelDB backend in a temp directory. */
export function levelBackend(): Backend {
  const dirs: string[] = []
  let path = ''
  return {
    name: 'level',
    async open() {
      const dir = await tempDir()
      dirs.push(dir)
      path = join(dir, 'db')
      return openLevelController(path)
    },
    reopen() {
      return openLevelController(path)
    },
    async cleanup() {
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
    }
  }
}

/** Both backends, for compliance suites. */
export const BACKENDS: readonly (() => Backend)[] = [memoryBackend, levelBackend]

/** Opens every repository over a fresh controller of `backend`; closes are registered in `open`. */
export async function openRepos(kv: KvController): Promise<Repositories> {
  return openStore(kv)
}

/** An own bid fixture. */
export function bid(id: string, expiresMs: number, side: 'buy' | 'sell' = 'buy'): StoredBid {
  return {
    id,
    article: 'net.bitwrk/gorays/0',
    side,
    expiresMs,
    bytes: new TextEncoder().encode(`kind=bitwrk-bid-v1&id=${id}\nsignature`)
  }
}

/** Terms of fixture transaction number `n` (distinct bid ids, so distinct ids), matched at `matchedMs`. */
export function termsN(n: number, matchedMs: number = T0): MatchTerms {
  return { ...TERMS, buyBidId: `buy-${n}`, sellBidId: `sell-${n}`, matchedMs }
}

/** Signs a message of `kind` for the transaction of `terms` (fixture parties). */
export function signed(terms: MatchTerms, kind: MessageKind): TxMessage {
  const txid = transactionId(terms.buyBidId, terms.sellBidId)
  let content = CONTENT[kind]
  if (content.kind === 'transmit-finished')
    content = { ...content, encResultHashSig: signReceipt(BUYER, txid, content.encResultHash) }
  return signTxMessage(SIGNER[kind], txid, content)
}

/** The signed messages that lead the transaction of `terms` to `phase`. */
export function pathMessages(terms: MatchTerms, phase: Phase): TxMessage[] {
  return PATHS[phase].map((k) => signed(terms, k))
}

/** The transaction of `terms` driven to `phase`, one message per second after the match. */
export function driveTo(terms: MatchTerms, phase: Phase): Transaction {
  let tx = createTransaction(terms)
  pathMessages(terms, phase).forEach((m, i) => {
    const r = applyMessage(tx, m, terms.matchedMs + 1000 * (i + 1))
    assert.ok(r.ok, r.ok ? '' : r.code)
    tx = r.tx
  })
  assert.equal(tx.phase, phase)
  return tx
}

export { BUYER, SELLER, T0 }
