import { DEFAULT_EPOCH_PARAMS } from '../../protocol/matching/index.js'
import { runScenario, scenarios } from '../agreement/run.js'
import type { Bench } from '../bench.js'

/** Nodes of the full run (issue 14: at least 10), each a process; `--quick` runs 5. */
const NODES = 10
/** How long bids are placed per scenario, ms. */
const LOAD_MS = 20_000

/**
 * Agreement under latency, clock skew, load and a partition (issue 14 §1): one line per
 * scenario (`--scenario NAME` runs one) from `scripts/agreement/run.ts`. Targets: agreement share
 * ≥ 0.999 for idle, latency_50, latency_150 and skew_250, ≥ 0.99 for skew_2s and overload;
 * own_bids_late = 0, buys_failed = 0 and a non-null reconverge_ms ≤ 10 000 everywhere.
 */
export const bench: Bench = {
  name: 'agreement',
  async run({ quick, args }) {
    const i = args.indexOf('--scenario')
    const only = i >= 0 ? args[i + 1] : undefined
    const list = scenarios(quick ? 5 : NODES, quick ? 8000 : LOAD_MS, DEFAULT_EPOCH_PARAMS).filter(
      (s) => only === undefined || s.name === only
    )
    const lines = []
    for (const s of list) lines.push({ ...(await runScenario(s, (l) => console.error(l))) })
    return lines
  }
}
