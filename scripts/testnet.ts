import '../node/polyfill.js'

/**
 * `npm run testnet -- [--nodes N] [--jobs K] [--json]`: the multi-node local testnet.
 * Not built yet (issue 5): this says so and exits 1 rather than pretending to trade.
 */
process.stderr.write(
  'bitwrk-node testnet: not available yet — it arrives with the trading issue (#5). ' +
    'Today the repository holds the protocol core and CAFS; run `npm test`.\n'
)
process.exitCode = 1
