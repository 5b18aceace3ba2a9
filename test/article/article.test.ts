import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ARTICLE_MAX_LENGTH,
  isArticle,
  isOriginalArticle,
  matchKey,
  ORIGINAL_ARTICLES,
  parseArticle,
  parseMatchKey,
  validateArticle
} from '../../protocol/article/index.js'
import type { Currency } from '../../protocol/money/index.js'
import { throwsCode } from '../support/errors.js'

/** Names the original traded or used in its vectors (notes §9, vectors C). */
const VALID = [
  'fnord',
  'snafu',
  'foobar',
  'foobar~trusted',
  'net.bitwrk/gorays/0',
  'net.bitwrk/gorays/0~trusted',
  'net.bitwrk/blender/0/2.80/512M',
  'net.bitwrk/blender/0/2.80/512M~trusted',
  'net.bitwrk/blender/0/2.69/32G',
  'a',
  'A-Z_a.z/0-9',
  '...',
  '.hidden/x',
  'x'.repeat(ARTICLE_MAX_LENGTH),
  `${'x'.repeat(ARTICLE_MAX_LENGTH - 8)}~trusted`
]

const INVALID: [unknown, string][] = [
  [undefined, 'ARTICLE_BAD_TYPE'],
  [null, 'ARTICLE_BAD_TYPE'],
  [42, 'ARTICLE_BAD_TYPE'],
  [['fnord'], 'ARTICLE_BAD_TYPE'],
  ['', 'ARTICLE_EMPTY'],
  ['x'.repeat(ARTICLE_MAX_LENGTH + 1), 'ARTICLE_TOO_LONG'],
  ['x'.repeat(10_000_000), 'ARTICLE_TOO_LONG'],
  ['net bitwrk', 'ARTICLE_BAD_CHARACTER'],
  [' fnord', 'ARTICLE_BAD_CHARACTER'],
  ['fnord\n', 'ARTICLE_BAD_CHARACTER'],
  ['fnord\u0000', 'ARTICLE_BAD_CHARACTER'],
  ['fnord:BTC', 'ARTICLE_BAD_CHARACTER'],
  ['a%2Fb', 'ARTICLE_BAD_CHARACTER'],
  ['a+b', 'ARTICLE_BAD_CHARACTER'],
  ['a&price=0', 'ARTICLE_BAD_CHARACTER'],
  ['a\\b', 'ARTICLE_BAD_CHARACTER'],
  ['a?b', 'ARTICLE_BAD_CHARACTER'],
  ['a#b', 'ARTICLE_BAD_CHARACTER'],
  ['caf\u00e9', 'ARTICLE_BAD_CHARACTER'],
  ['\uff46nord', 'ARTICLE_BAD_CHARACTER'],
  ['f\u200bnord', 'ARTICLE_BAD_CHARACTER'],
  ['fnord~trusted ', 'ARTICLE_BAD_CHARACTER'],
  ['/fnord', 'ARTICLE_BAD_SEGMENT'],
  ['fnord/', 'ARTICLE_BAD_SEGMENT'],
  ['a//b', 'ARTICLE_BAD_SEGMENT'],
  ['/', 'ARTICLE_BAD_SEGMENT'],
  ['.', 'ARTICLE_BAD_SEGMENT'],
  ['..', 'ARTICLE_BAD_SEGMENT'],
  ['a/../b', 'ARTICLE_BAD_SEGMENT'],
  ['a/./b', 'ARTICLE_BAD_SEGMENT'],
  ['fnord/~trusted', 'ARTICLE_BAD_SEGMENT'],
  ['~trusted', 'ARTICLE_BAD_SUFFIX'],
  ['fnord~', 'ARTICLE_BAD_SUFFIX'],
  ['fnord~Trusted', 'ARTICLE_BAD_SUFFIX'],
  ['fnord~trust', 'ARTICLE_BAD_SUFFIX'],
  ['fnord~trustedx', 'ARTICLE_BAD_SUFFIX'],
  ['fnord~trusted~trusted', 'ARTICLE_BAD_SUFFIX'],
  ['fn~ord', 'ARTICLE_BAD_SUFFIX'],
  ['fnord~trusted/x', 'ARTICLE_BAD_SUFFIX'],
  [`${'x'.repeat(ARTICLE_MAX_LENGTH - 7)}~trusted`, 'ARTICLE_TOO_LONG']
]

describe('article', () => {
  it('accepts every article of the original and other well-formed names', () => {
    for (const name of VALID) assert.deepEqual(validateArticle(name), { result: 'accept' }, name)
  })

  it('rejects malformed names with a specific code', () => {
    for (const [name, code] of INVALID) {
      assert.deepEqual(validateArticle(name), { result: 'reject', code }, String(name).slice(0, 40))
      assert.ok(!isArticle(name))
    }
  })

  it('splits a name into base, trusted flag and segments', () => {
    assert.deepStrictEqual(
      { ...parseArticle('net.bitwrk/blender/0/2.80/512M~trusted') },
      {
        name: 'net.bitwrk/blender/0/2.80/512M~trusted',
        base: 'net.bitwrk/blender/0/2.80/512M',
        trusted: true,
        segments: ['net.bitwrk', 'blender', '0', '2.80', '512M']
      }
    )
    const plain = parseArticle('fnord')
    assert.equal(plain.trusted, false)
    assert.equal(plain.base, 'fnord')
    throwsCode(() => parseArticle('a//b'), 'ARTICLE_BAD_SEGMENT')
    throwsCode(() => parseArticle(7 as unknown as string), 'ARTICLE_BAD_TYPE')
  })

  it('builds the original match keys', () => {
    assert.equal(matchKey('net.bitwrk/blender/0/2.80/512M', 'BTC'), 'net.bitwrk/blender/0/2.80/512M:BTC')
    assert.equal(matchKey('foobar~trusted', 'BTC'), 'foobar~trusted:BTC')
    assert.equal(matchKey('fnord', 'EUR'), 'fnord:EUR')
    throwsCode(() => matchKey('a b', 'BTC'), 'ARTICLE_BAD_CHARACTER')
    throwsCode(() => matchKey('fnord', 'XBT' as Currency), 'ARTICLE_BAD_MATCH_KEY')
  })

  it('treats the trusted variant as a market of its own', () => {
    assert.notEqual(matchKey('foobar', 'BTC'), matchKey('foobar~trusted', 'BTC'))
    assert.notEqual(matchKey('foobar', 'BTC'), matchKey('foobar', 'EUR'))
  })

  it('parses match keys back and rejects malformed ones', () => {
    assert.deepEqual(parseMatchKey('foobar~trusted:BTC'), { article: 'foobar~trusted', currency: 'BTC' })
    for (const bad of [
      'fnord',
      'fnord:',
      ':BTC',
      'fnord:btc',
      'fnord:XBT',
      'a:b:BTC',
      'a b:BTC',
      'x'.repeat(500)
    ])
      throwsCode(() => parseMatchKey(bad), 'ARTICLE_BAD_MATCH_KEY', bad)
    throwsCode(() => parseMatchKey(null as unknown as string), 'ARTICLE_BAD_MATCH_KEY')
  })

  it('knows the original catalogue, with and without the suffix', () => {
    for (const a of ORIGINAL_ARTICLES) {
      assert.ok(isOriginalArticle(a), a)
      assert.ok(isOriginalArticle(`${a}~trusted`), a)
    }
    for (const v of ['2.69', '2.70', '2.79', '2.80', '2.82'])
      for (const c of ['512M', '2G', '8G', '32G'])
        assert.ok(isOriginalArticle(`net.bitwrk/blender/0/${v}/${c}`))
    for (const a of [
      'net.bitwrk/blender/0/2.83/2G',
      'net.bitwrk/blender/0/2.68/2G',
      'net.bitwrk/blender/0/2.80/4G',
      'FNORD',
      'a//b',
      'net.bitwrk/gorays/1'
    ])
      assert.ok(!isOriginalArticle(a), a)
  })

  it('round trips any valid match key and never throws other errors', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..')
    const name = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([segs, t]) => segs.join('/') + (t ? '~trusted' : ''))
    fc.assert(
      fc.property(name, fc.constantFrom<Currency>('BTC', 'EUR', 'USD', 'BRL', 'GBP'), (n, c) => {
        assert.ok(isArticle(n), n)
        assert.deepEqual(parseMatchKey(matchKey(n, c)), { article: n, currency: c })
      }),
      { numRuns: 500 }
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = validateArticle(s)
        assert.ok(r.result === 'accept' || r.code.startsWith('ARTICLE_'))
      }),
      { numRuns: 1000 }
    )
  })
})
