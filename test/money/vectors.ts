/**
 * Money vectors of the original BitWrk (notes/bitwrk-original.md, test vectors F:
 * common/money/money_test.go plus the generated extras), and the error code we give for each
 * rejected case.
 */

/** Parse → amount in smallest units (repo test). */
export const PARSE_AMOUNTS: readonly [string, bigint][] = [
  ['satoshi-1', -1n],
  ['satoshi 0', 0n],
  ['satoshi 1', 1n],
  ['satoshi 10373476', 10373476n],
  ['BTC 0.1', 10000000n],
  ['BTC 0.01', 1000000n],
  ['BTC 0.001', 100000n],
  ['BTC 0.0001', 10000n],
  ['BTC0.00000001', 1n],
  ['mBTC0.00001', 1n],
  ['uBTC0.01', 1n],
  ['BTC -23.2549', -2325490000n],
  // generated extras
  ['BTC 21000000', 2100000000000000n],
  ['EUR 0.000000001', 1n],
  ['satoshi 99999999999999999', 99999999999999999n],
  ['BTC 999999999', 99999999900000000n]
]

/** Parse must fail, with our code (repo test, then generated extras). */
export const PARSE_FAILURES: readonly [string, string][] = [
  ['12', 'MONEY_BAD_FORMAT'],
  ['BTC_12', 'MONEY_BAD_FORMAT'],
  ['-BTC12', 'MONEY_BAD_FORMAT'],
  ['1 BTC', 'MONEY_BAD_FORMAT'],
  ['BTC0,2', 'MONEY_BAD_FORMAT'],
  ['satoshi 0.2', 'MONEY_TOO_PRECISE'],
  ['BTC99999999999999', 'MONEY_OUT_OF_RANGE'],
  ['$ 0.0000000002', 'MONEY_TOO_PRECISE'],
  ['€ 0.0000000002', 'MONEY_TOO_PRECISE'],
  ['$ 100000000', 'MONEY_OUT_OF_RANGE'],
  // generated extras
  ['mBTC 9999999999999', 'MONEY_OUT_OF_RANGE'],
  ['satoshi 999999999999999999', 'MONEY_OUT_OF_RANGE'],
  ['BTC 1000000000', 'MONEY_OUT_OF_RANGE'],
  ['BTC 0.000000001', 'MONEY_TOO_PRECISE'],
  ['btc 1', 'MONEY_UNKNOWN_CURRENCY'],
  ['BTC  1', 'MONEY_BAD_FORMAT'],
  ['BTC +1', 'MONEY_BAD_FORMAT'],
  ['BTC 1.', 'MONEY_BAD_FORMAT'],
  ['BTC .5', 'MONEY_BAD_FORMAT']
]

/** Parse then format (repo test, then generated extras). */
export const PARSE_FORMAT: readonly [string, string][] = [
  ['satoshi-1', 'uBTC -0.01'],
  ['satoshi 1', 'uBTC 0.01'],
  ['BTC 123456789', 'BTC 123456789'],
  ['BTC 123456789.0', 'BTC 123456789'],
  ['BTC 123456789.00', 'BTC 123456789'],
  ['BTC 12345678.9', 'BTC 12345678.9'],
  ['BTC 1234567.89', 'BTC 1234567.89'],
  ['BTC 123456.789', 'BTC 123456.789'],
  ['BTC 12345.6789', 'BTC 12345.6789'],
  ['BTC 1234.56789', 'BTC 1234.56789'],
  ['BTC 123.456789', 'BTC 123.456789'],
  ['BTC 12.3456789', 'BTC 12.3456789'],
  ['BTC 1.23456789', 'BTC 1.23456789'],
  ['BTC 0.12345678', 'mBTC 123.45678'],
  ['BTC 0.01234567', 'mBTC 12.34567'],
  ['BTC 0.00123456', 'mBTC 1.23456'],
  ['BTC 0.00012345', 'uBTC 123.45'],
  ['BTC 0.00001234', 'uBTC 12.34'],
  ['BTC 0.00000123', 'uBTC 1.23'],
  ['BTC 0.00000012', 'uBTC 0.12'],
  ['BTC 0.00000001', 'uBTC 0.01'],
  ['BTC 0.00000000', 'BTC 0'],
  ['mBTC 0', 'BTC 0'],
  ['uBTC 0', 'BTC 0'],
  ['BTC 0.1', 'mBTC 100'],
  ['BTC 0.01', 'mBTC 10'],
  ['BTC 0.001', 'mBTC 1'],
  ['BTC 0.0001', 'uBTC 100'],
  ['satoshi 0', 'BTC 0'],
  ['€-1', 'EUR -1'],
  ['€ 1', 'EUR 1'],
  ['€0', 'EUR 0'],
  ['€ 0', 'EUR 0'],
  ['€-0', 'EUR 0'],
  ['EUR-1', 'EUR -1'],
  ['EUR 1', 'EUR 1'],
  ['R$1', 'BRL 1'],
  ['BRL1', 'BRL 1'],
  ['$1', 'USD 1'],
  ['USD1', 'USD 1'],
  ['£1', 'GBP 1'],
  ['GBP1', 'GBP 1'],
  // generated extras
  ['satoshi 99', 'uBTC 0.99'],
  ['satoshi 100', 'uBTC 1'],
  ['satoshi 100000', 'mBTC 1'],
  ['satoshi 12345678', 'mBTC 123.45678'],
  ['mBTC 999999999999', 'BTC 999999999.999'],
  ['$99999999', 'USD 99999999'],
  ['satoshi 99999999999999999', 'BTC 999999999.99999999'],
  ['BTC 999999999', 'BTC 999999999']
]

/** JSON strings that survive decode → encode unchanged (repo test). */
export const JSON_ROUND_TRIP: readonly string[] = [
  'uBTC -0.01',
  'uBTC 0.01',
  'BTC 123.456',
  'mBTC 123.456',
  'uBTC 123.45',
  'EUR 123.45',
  'USD 123.45',
  'BRL 123.45',
  'GBP 123.45'
]

/** formatAmount(value, factor) (repo test). */
export const FORMAT_AMOUNT: readonly [bigint, bigint, string][] = [
  [1n, 1n, '1'],
  [10n, 1n, '10'],
  [100n, 1n, '100'],
  [1000n, 1n, '1000'],
  [1n, 1000n, '0.001'],
  [10n, 1000n, '0.01'],
  [100n, 1000n, '0.1'],
  [1000n, 1000n, '1']
]
