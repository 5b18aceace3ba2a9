/**
 * Exact money of the market (spec: protocol/spec/money.md): integer amounts in a currency's
 * smallest unit, the original BitWrk's text form for parsing and display, JSON as that text.
 */
export { MoneyCode, type MoneyErrorCode } from './errors.js'
export { compactMoney, displayUnit, formatAmount, formatMoney } from './format.js'
export {
  addMoney,
  compareMoney,
  isMoney,
  MONEY_MAX_ABS,
  type Money,
  money,
  moneyEquals,
  subMoney
} from './money.js'
export { MONEY_FORMS, MONEY_MAX_TEXT_LENGTH, moneyFromJSON, parseMoney } from './parse.js'
export {
  autoUnits,
  CURRENCIES,
  type Currency,
  isCurrency,
  type MoneyUnit,
  UNITS,
  unitBySymbol
} from './units.js'
