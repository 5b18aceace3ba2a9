import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MANDATE_BUCKET, MandateBook, type MandateGrant } from '../../../node/mandates/index.js'
import { createMemoryBacking, createMemoryController } from '../../../node/store/db.js'
import { parseMoney } from '../../../protocol/money/index.js'

const ART = 'net.bitwrk/gorays/0'
const T0 = 1_700_000_000_000

async function open(backing = createMemoryBacking()): Promise<MandateBook> {
  return (await MandateBook.open(createMemoryController(backing))).book
}

describe('node/mandates', () => {
  it('grants with one trade when neither limit is given (original §7.6)', async () => {
    const book = await open()
    const m = await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1' }, T0)
    assert.equal(m.id, 1)
    assert.equal(m.tradesLeft, 1)
    assert.equal(m.expiresMs, undefined)
    const timed = await book.grant({ article: ART, side: 'SELL', price: 'mBTC 1', validMinutes: 20 }, T0)
    assert.equal(timed.tradesLeft, undefined)
    assert.equal(timed.expiresMs, T0 + 20 * 60_000)
  })

  it('refuses invalid grants with MANDATE_INVALID naming the field, storing nothing', async () => {
    const book = await open()
    const bad: [MandateGrant, string][] = [
      [{ article: 'a//b', side: 'BUY', price: 'mBTC 1' }, 'article'],
      [{ article: 7, side: 'BUY', price: 'mBTC 1' }, 'article'],
      [{ article: ART, side: 'buy', price: 'mBTC 1' }, 'side'],
      [{ article: ART, side: 'BUY', price: 1 }, 'price'],
      [{ article: ART, side: 'BUY', price: 'mBTC x' }, 'price'],
      [{ article: ART, side: 'BUY', price: 'mBTC -1' }, 'price'],
      [{ article: ART, side: 'BUY', price: 'mBTC 1', trades: 1.5 }, 'trades'],
      [{ article: ART, side: 'BUY', price: 'mBTC 1', trades: 0 }, 'trades'],
      [{ article: ART, side: 'BUY', price: 'mBTC 1', validMinutes: -1 }, 'validMinutes'],
      [{ article: ART, side: 'BUY', price: 'mBTC 1', expiresMs: T0 }, 'expiresMs'],
      [{ article: ART, side: 'BUY', price: 'mBTC 1', expiresMs: T0 + 1, validMinutes: 1 }, 'expiresMs']
    ]
    for (const [grant, field] of bad) {
      await assert.rejects(book.grant(grant, T0), (err: { code: string; details: { field: string } }) => {
        assert.equal(err.code, 'MANDATE_INVALID')
        assert.equal(err.details.field, field)
        return true
      })
    }
    assert.deepEqual(book.list(), [])
  })

  it('uses the oldest admitting mandate, at its price or the asked one, by side and limit', async () => {
    const book = await open()
    await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 5 }, T0)
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 2', trades: 5 }, T0)
    const buy = await book.use(ART, 'BUY', undefined, T0)
    assert.ok(buy.ok)
    assert.equal(buy.mandate.tradesLeft, 4)
    assert.deepEqual(buy.price, parseMoney('mBTC 1'))
    assert.deepEqual(await book.use(ART, 'BUY', parseMoney('mBTC 1.1'), T0), {
      ok: false,
      code: 'MANDATE_PRICE_LIMIT'
    })
    assert.deepEqual(await book.use(ART, 'BUY', parseMoney('EUR 0.5'), T0), {
      ok: false,
      code: 'MANDATE_PRICE_LIMIT'
    })
    assert.ok((await book.use(ART, 'SELL', parseMoney('mBTC 3'), T0)).ok)
    assert.deepEqual(await book.use(ART, 'SELL', parseMoney('mBTC 1'), T0), {
      ok: false,
      code: 'MANDATE_PRICE_LIMIT'
    })
    assert.deepEqual(await book.use('other', 'BUY', undefined, T0), { ok: false, code: 'MANDATE_NOT_FOUND' })
    assert.equal(book.get(1)?.tradesLeft, 4)
  })

  it('deletes expired mandates when met and reports MANDATE_EXPIRED', async () => {
    const book = await open()
    await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1', validMinutes: 1 }, T0)
    assert.equal(book.peek(ART, 'BUY', undefined, T0 + 60_000).ok, false)
    assert.equal(book.list().length, 1, 'peek deletes nothing')
    assert.deepEqual(await book.use(ART, 'BUY', undefined, T0 + 60_000), {
      ok: false,
      code: 'MANDATE_EXPIRED'
    })
    assert.deepEqual(book.list(), [])
    assert.deepEqual(await book.use(ART, 'BUY', undefined, T0 + 60_000), {
      ok: false,
      code: 'MANDATE_NOT_FOUND'
    })
  })

  it('never takes more trades than granted under concurrent use', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 20 }),
        async (trades, uses) => {
          const book = await open()
          await book.grant({ article: ART, side: 'SELL', price: 'mBTC 1', trades }, T0)
          const results = await Promise.all(
            Array.from({ length: uses }, () => book.use(ART, 'SELL', undefined, T0))
          )
          assert.equal(results.filter((r) => r.ok).length, Math.min(trades, uses))
          assert.equal(book.list().length, uses >= trades ? 0 : 1)
        }
      ),
      { numRuns: 50 }
    )
  })

  it('persists grants, uses and revokes across a restart, never reusing an id', async () => {
    const backing = createMemoryBacking()
    const a = await open(backing)
    await a.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 3 }, T0)
    const second = await a.grant({ article: ART, side: 'SELL', price: 'uBTC 5', validMinutes: 5 }, T0)
    await a.use(ART, 'BUY', undefined, T0)
    await a.revoke(second.id)
    const b = await open(backing)
    assert.deepEqual(b.list(), a.list())
    assert.equal(b.get(1)?.tradesLeft, 2)
    const third = await b.grant({ article: ART, side: 'BUY', price: 'mBTC 1' }, T0)
    assert.equal(third.id, 3)
    await assert.rejects(b.revoke(99), { code: 'MANDATE_UNKNOWN' })
  })

  it('reports corrupt records on open and keeps the rest', async () => {
    const backing = createMemoryBacking()
    const a = await open(backing)
    await a.grant({ article: ART, side: 'BUY', price: 'mBTC 1' }, T0)
    await a.grant({ article: ART, side: 'BUY', price: 'mBTC 2' }, T0)
    const rec = [...backing.values()].find((e) => e.key[0] === MANDATE_BUCKET && e.key[8] === 1)
    assert.ok(rec)
    rec.value = Uint8Array.from(rec.value)
    rec.value[0] = (rec.value[0] as number) ^ 1
    const { book, corrupt } = await MandateBook.open(createMemoryController(backing))
    assert.equal(corrupt.length, 1)
    assert.deepEqual(
      book.list().map((m) => m.id),
      [2]
    )
  })

  it('notifies listeners on grant, use and revoke', async () => {
    const book = await open()
    let n = 0
    const off = book.onChange(() => n++)
    const m = await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 2 }, T0)
    await book.use(ART, 'BUY', undefined, T0)
    await book.revoke(m.id)
    off()
    await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1' }, T0)
    assert.equal(n, 3)
  })

  it('holds a taken trade until it is charged or given back (MAN-5)', async () => {
    const backing = createMemoryBacking()
    const book = await open(backing)
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 1', trades: 2 }, T0)
    const a = await book.take(ART, 'SELL', undefined, T0)
    const b = await book.take(ART, 'SELL', undefined, T0)
    assert.ok(a.ok && b.ok)
    // both trades are out: the mandate stays, listed at 0, and nobody can take a third
    assert.equal(book.get(1)?.tradesLeft, 0)
    assert.equal((await book.take(ART, 'SELL', undefined, T0)).ok, false)
    assert.equal(book.peek(ART, 'SELL', undefined, T0).ok, false)
    await a.trade.refund()
    await a.trade.refund()
    assert.equal(book.get(1)?.tradesLeft, 1, 'given back once, however often asked')
    await b.trade.charge()
    assert.equal(book.get(1)?.tradesLeft, 1)
    const c = await book.take(ART, 'SELL', undefined, T0)
    assert.ok(c.ok)
    await c.trade.charge()
    assert.equal(book.get(1), undefined, 'deleted once its last trade is charged')
    // a restart forgets what was held: a held trade stays spent (the safe side)
    await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 1 }, T0)
    const d = await book.take(ART, 'BUY', undefined, T0)
    assert.ok(d.ok)
    const after = await open(backing)
    assert.equal(after.get(2)?.tradesLeft, 0)
    assert.equal((await after.use(ART, 'BUY', undefined, T0)).ok, false)
    assert.equal(after.get(2), undefined)
    // a revoked mandate is not brought back by a refund
    const e = await book.take(ART, 'BUY', undefined, T0)
    assert.equal(e.ok, false)
    await book.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 1 }, T0)
    const f = await book.take(ART, 'BUY', undefined, T0)
    assert.ok(f.ok)
    await book.revoke(f.mandate.id)
    await f.trade.refund()
    assert.equal(book.get(f.mandate.id), undefined)
  })
})
