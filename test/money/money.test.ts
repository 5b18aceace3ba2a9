import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isBitwrkError } from '../../protocol/errors.js'
import {
  addMoney,
  CURRENCIES,
  type Currency,
  compactMoney,
  compareMoney,
  formatAmount,
  formatMoney,
  isCurrency,
  isMoney,
  MONEY_FORMS,
  MONEY_MAX_ABS,
  MONEY_MAX_TEXT_LENGTH,
  money,
  moneyEquals,
  moneyFromJSON,
  parseMoney,
  subMoney,
  UNITS
} from '../../protocol/money/index.js'
import { throwsCode } from '../support/errors.js'
import { FORMAT_AMOUNT, JSON_ROUND_TRIP, PARSE_AMOUNTS, PARSE_FAILURES, PARSE_FORMAT } from './vectors.js'

describe('money', () => {
  describe('original vectors (F)', () => {
    it('parses each amount of the original exactly', () => {
      for (const [text, amount] of PARSE_AMOUNTS) {
        const m = parseMoney(text)
        assert.equal(m.amount, amount, text)
        assert.equal(m.currency, text.startsWith('EUR') ? 'EUR' : 'BTC', text)
      }
    })

    it('rejects every case the original rejects, with a specific code', () => {
      for (const [text, code] of PARSE_FAILURES) throwsCode(() => parseMoney(text), code, text)
    })

    it('formats each parsed value as the original does', () => {
      for (const [text, shown] of PARSE_FORMAT) assert.equal(formatMoney(parseMoney(text)), shown, text)
    })

    it('keeps the JSON strings of the original unchanged through decode and encode', () => {
      for (const s of JSON_ROUND_TRIP) {
        const json = JSON.stringify(s)
        const m = moneyFromJSON(JSON.parse(json))
        assert.equal(JSON.stringify(m), json)
      }
    })

    it('formats amounts in a unit as the original formatAmount', () => {
      for (const [value, factor, out] of FORMAT_AMOUNT) assert.equal(formatAmount(value, factor), out)
    })

    it('round trips the currency codes', () => {
      for (const c of ['BTC', 'USD', 'EUR', 'BRL', 'GBP']) {
        assert.ok(isCurrency(c))
        assert.equal(parseMoney(`${c} 1`).currency, c)
      }
      assert.deepEqual([...CURRENCIES], ['BTC', 'EUR', 'USD', 'BRL', 'GBP'])
    })
  })

  describe('values', () => {
    it('builds frozen values that compare structurally with plain objects', () => {
      const m = money('BTC', 150000n)
      assert.ok(Object.isFrozen(m))
      assert.deepStrictEqual(m, { currency: 'BTC', amount: 150000n })
      assert.deepStrictEqual(parseMoney('mBTC 1.5'), m)
      assert.deepEqual(Object.keys(m), ['currency', 'amount'])
    })

    it('writes the canonical string in JSON', () => {
      assert.equal(JSON.stringify({ price: money('BTC', 150000n) }), '{"price":"mBTC 1.5"}')
    })

    it('writes the compact form without the space for signed documents', () => {
      assert.equal(compactMoney(parseMoney('mBTC 1.5')), 'mBTC1.5')
      assert.equal(compactMoney(parseMoney('BTC 0.0001')), 'uBTC100')
      assert.equal(compactMoney(money('EUR', -1n)), 'EUR-0.000000001')
      assert.deepStrictEqual(parseMoney('mBTC1.5'), parseMoney('mBTC 1.5'))
    })

    it('enforces the range ±(10^17 − 1) on construction and arithmetic', () => {
      assert.equal(money('BTC', MONEY_MAX_ABS).amount, MONEY_MAX_ABS)
      assert.equal(money('EUR', -MONEY_MAX_ABS).amount, -MONEY_MAX_ABS)
      throwsCode(() => money('BTC', MONEY_MAX_ABS + 1n), 'MONEY_OUT_OF_RANGE')
      throwsCode(() => money('USD', -MONEY_MAX_ABS - 1n), 'MONEY_OUT_OF_RANGE')
      throwsCode(() => addMoney(money('BTC', MONEY_MAX_ABS), money('BTC', 1n)), 'MONEY_OUT_OF_RANGE')
      throwsCode(() => subMoney(money('BTC', -MONEY_MAX_ABS), money('BTC', 1n)), 'MONEY_OUT_OF_RANGE')
    })

    it('parses the extreme amounts of every unit and nothing beyond', () => {
      for (const u of UNITS) {
        // Largest integer digit count the original allows: factor * 10^digits < 10^18.
        const digits = 18 - u.decimals - 1
        const frac = u.decimals > 0 ? `.${'9'.repeat(u.decimals)}` : ''
        const max = parseMoney(`${u.symbol} -${'9'.repeat(digits)}${frac}`)
        assert.ok(isMoney(max), u.symbol)
        throwsCode(() => parseMoney(`${u.symbol} 1${'0'.repeat(digits)}`), 'MONEY_OUT_OF_RANGE', u.symbol)
        throwsCode(
          () => parseMoney(`${u.symbol} 0.${'0'.repeat(u.decimals + 1)}`),
          'MONEY_TOO_PRECISE',
          u.symbol
        )
      }
    })

    it('rejects bad constructor arguments with codes', () => {
      throwsCode(() => money('XBT' as Currency, 1n), 'MONEY_UNKNOWN_CURRENCY')
      throwsCode(() => money('BTC', 1 as unknown as bigint), 'MONEY_BAD_AMOUNT')
      throwsCode(() => money('BTC', Number.NaN as unknown as bigint), 'MONEY_BAD_AMOUNT')
    })

    it('adds, subtracts and compares only within one currency', () => {
      const a = parseMoney('mBTC 1.5')
      const b = parseMoney('uBTC 45')
      assert.equal(formatMoney(addMoney(a, b)), 'mBTC 1.545')
      assert.equal(formatMoney(subMoney(b, a)), 'mBTC -1.455')
      assert.equal(compareMoney(a, b), 1)
      assert.equal(compareMoney(b, a), -1)
      assert.equal(compareMoney(a, parseMoney('BTC 0.0015')), 0)
      assert.ok(moneyEquals(a, parseMoney('BTC 0.0015')))
      assert.ok(!moneyEquals(money('EUR', 1n), money('USD', 1n)))
      throwsCode(() => addMoney(a, money('EUR', 1n)), 'MONEY_CURRENCY_MISMATCH')
      throwsCode(() => compareMoney(money('GBP', 1n), money('BRL', 1n)), 'MONEY_CURRENCY_MISMATCH')
    })

    it('recognises valid money objects only', () => {
      assert.ok(isMoney({ currency: 'BTC', amount: 1n }))
      for (const v of [
        null,
        undefined,
        1,
        'BTC 1',
        {},
        { currency: 'BTC', amount: 1 },
        { currency: 'btc', amount: 1n }
      ])
        assert.ok(!isMoney(v), String(v))
      assert.ok(!isMoney({ currency: 'BTC', amount: MONEY_MAX_ABS + 1n }))
    })
  })

  describe('hostile input', () => {
    const GARBAGE: [unknown, string][] = [
      [null, 'MONEY_BAD_FORMAT'],
      [undefined, 'MONEY_BAD_FORMAT'],
      [1, 'MONEY_BAD_FORMAT'],
      [1n, 'MONEY_BAD_FORMAT'],
      [{}, 'MONEY_BAD_FORMAT'],
      [['BTC 1'], 'MONEY_BAD_FORMAT'],
      ['', 'MONEY_BAD_FORMAT'],
      ['null', 'MONEY_BAD_FORMAT'],
      ['undefined', 'MONEY_BAD_FORMAT'],
      ['NaN', 'MONEY_BAD_FORMAT'],
      ['BTC NaN', 'MONEY_BAD_FORMAT'],
      ['BTC Infinity', 'MONEY_BAD_FORMAT'],
      ['BTC', 'MONEY_BAD_FORMAT'],
      ['BTC ', 'MONEY_BAD_FORMAT'],
      ['BTC -', 'MONEY_BAD_FORMAT'],
      ['BTC --1', 'MONEY_BAD_FORMAT'],
      ['BTC - 1', 'MONEY_BAD_FORMAT'],
      ['BTC 1e3', 'MONEY_BAD_FORMAT'],
      ['BTC 0x10', 'MONEY_BAD_FORMAT'],
      ['BTC 1_000', 'MONEY_BAD_FORMAT'],
      ['BTC 1.2.3', 'MONEY_BAD_FORMAT'],
      ['BTC 1n', 'MONEY_BAD_FORMAT'],
      // unicode digits: Arabic-Indic, full-width, Devanagari, superscript, mathematical bold
      ['BTC \u0661', 'MONEY_BAD_FORMAT'],
      ['BTC \uff11', 'MONEY_BAD_FORMAT'],
      ['BTC \u0967', 'MONEY_BAD_FORMAT'],
      ['BTC \u00b9', 'MONEY_BAD_FORMAT'],
      ['BTC \u{1d7cf}', 'MONEY_BAD_FORMAT'],
      // whitespace variants
      [' BTC 1', 'MONEY_BAD_FORMAT'],
      ['BTC 1 ', 'MONEY_BAD_FORMAT'],
      ['BTC 1\n', 'MONEY_BAD_FORMAT'],
      ['BTC\t1', 'MONEY_BAD_FORMAT'],
      ['BTC\u00a01', 'MONEY_BAD_FORMAT'],
      ['BTC\u20091', 'MONEY_BAD_FORMAT'],
      ['BTC\u30001', 'MONEY_BAD_FORMAT'],
      ['BTC\n1', 'MONEY_BAD_FORMAT'],
      ['BTC 1\u0000', 'MONEY_BAD_FORMAT'],
      ['\ufeffBTC 1', 'MONEY_BAD_FORMAT'],
      ['BTC\u200b1', 'MONEY_BAD_FORMAT'],
      ['BTC -\u00a01', 'MONEY_BAD_FORMAT'],
      // look-alike symbols and case
      ['Btc 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['MBTC 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['µBTC 1', 'MONEY_BAD_FORMAT'],
      ['XBT 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['sat 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['$R 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['€€ 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['BTC$ 1', 'MONEY_UNKNOWN_CURRENCY'],
      ['¥ 1', 'MONEY_BAD_FORMAT'],
      ['\u20ac\u0301 1', 'MONEY_BAD_FORMAT'],
      // size
      [`BTC 0.${'0'.repeat(MONEY_MAX_TEXT_LENGTH)}`, 'MONEY_BAD_FORMAT'],
      [`BTC ${'9'.repeat(1_000_000)}`, 'MONEY_BAD_FORMAT'],
      ['B'.repeat(10_000_000), 'MONEY_BAD_FORMAT'],
      [`satoshi ${'0'.repeat(18)}`, 'MONEY_OUT_OF_RANGE'],
      [`BTC 0.${'0'.repeat(9)}`, 'MONEY_TOO_PRECISE'],
      ['satoshi 0.0', 'MONEY_TOO_PRECISE']
    ]

    it('rejects garbage with a BitwrkError code, never another exception', () => {
      for (const [input, code] of GARBAGE)
        throwsCode(() => parseMoney(input as string), code, JSON.stringify(String(input)).slice(0, 40))
    })

    it('rejects non-string JSON values', () => {
      for (const v of [null, 1, 1.5, true, {}, [], { currency: 'BTC', amount: '1' }])
        throwsCode(() => moneyFromJSON(v), 'MONEY_BAD_FORMAT', JSON.stringify(v))
    })

    it('names the accepted forms with examples in every parse error, and turns "2 mBTC" round (MON-10)', () => {
      const refused = (input: unknown): Record<string, unknown> => {
        try {
          moneyFromJSON(input)
        } catch (err) {
          assert.ok(isBitwrkError(err) && err.code.startsWith('MONEY_'), String(err))
          assert.equal(err.details['forms'], MONEY_FORMS, String(input).slice(0, 40))
          assert.ok(err.message.endsWith(MONEY_FORMS))
          return err.details
        }
        return assert.fail(`${String(input)} parsed`)
      }
      for (const [input] of [...GARBAGE, ...PARSE_FAILURES.map(([t]) => [t])]) refused(input)
      refused(42)
      // every example the hint gives is itself accepted
      const examples = [...MONEY_FORMS.matchAll(/'([^']+)'/g)].map((m) => m[1] as string)
      assert.ok(examples.length >= 3)
      for (const e of examples) parseMoney(e)
      for (const [input, suggested] of [
        ['2 mBTC', 'mBTC 2'],
        ['0.5BTC', 'BTC 0.5'],
        ['-1.25 EUR', 'EUR -1.25'],
        ['3 €', '€ 3']
      ] as const) {
        assert.equal(refused(input)['suggestion'], suggested)
        assert.ok(moneyEquals(parseMoney(suggested), parseMoney(suggested.replace(' ', ''))))
      }
      for (const input of ['2 mbtc', '2 XBT', 'mBTC', '2'])
        assert.equal(refused(input)['suggestion'], undefined)
    })

    it('accepts leading zeros like the original, counting them as digits', () => {
      assert.equal(parseMoney('BTC 007').amount, 700000000n)
      assert.equal(parseMoney(`BTC ${'0'.repeat(9)}`).amount, 0n)
      throwsCode(() => parseMoney(`BTC ${'0'.repeat(9)}1`), 'MONEY_OUT_OF_RANGE')
    })
  })

  describe('properties', () => {
    const currency = fc.constantFrom<Currency>(...CURRENCIES)
    const amount = fc.bigInt({ min: -MONEY_MAX_ABS, max: MONEY_MAX_ABS })
    // Small amounts too, where unit selection and fraction rendering change most.
    const small = fc.bigInt({ min: -1_000_000_000_000n, max: 1_000_000_000_000n })

    it('parses every formatted value back to itself, spaced or compact', () => {
      fc.assert(
        fc.property(currency, fc.oneof(amount, small), (c, a) => {
          const m = money(c, a)
          assert.deepStrictEqual(parseMoney(formatMoney(m)), m)
          assert.deepStrictEqual(parseMoney(compactMoney(m)), m)
          assert.deepStrictEqual(moneyFromJSON(JSON.parse(JSON.stringify(m))), m)
        }),
        { numRuns: 2000 }
      )
    })

    it('formats canonically: format(parse(format(m))) is format(m)', () => {
      fc.assert(
        fc.property(currency, fc.oneof(amount, small), (c, a) => {
          const s = formatMoney(money(c, a))
          assert.equal(formatMoney(parseMoney(s)), s)
          assert.ok(!s.includes('.') || !s.endsWith('0'), s)
        }),
        { numRuns: 1000 }
      )
    })

    it('parses any unit with any allowed digits to the exact amount', () => {
      const unit = fc.constantFrom(...UNITS)
      fc.assert(
        fc.property(unit, fc.boolean(), fc.boolean(), fc.nat(), fc.nat(), (u, neg, space, i, f) => {
          const intDigits = String(i).slice(0, 17 - u.decimals)
          const fracDigits = u.decimals > 0 ? String(f).slice(0, u.decimals) : ''
          const text = `${u.symbol}${space ? ' ' : ''}${neg ? '-' : ''}${intDigits}${fracDigits ? `.${fracDigits}` : ''}`
          const abs =
            BigInt(intDigits) * u.factor +
            (fracDigits ? BigInt(fracDigits) * 10n ** BigInt(u.decimals - fracDigits.length) : 0n)
          const m = parseMoney(text)
          assert.equal(m.currency, u.currency)
          assert.equal(m.amount, neg ? -abs : abs)
        }),
        { numRuns: 1000 }
      )
    })

    it('never throws anything but a money error on arbitrary strings', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string(),
            fc.string({ unit: 'grapheme' }),
            fc.stringMatching(/^[A-Za-z€$£]{1,8} ?-?[0-9.]{0,30}$/)
          ),
          (s) => {
            try {
              const m = parseMoney(s)
              assert.ok(isMoney(m))
            } catch (err) {
              assert.ok(isBitwrkError(err) && err.code.startsWith('MONEY_'), String(err))
            }
          }
        ),
        { numRuns: 2000 }
      )
    })
  })
})
