import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bench } from '../bench.js'
import { runTestnet, type TestnetSummary } from '../testnet/run.js'

/**
 * The swarm for shared work inputs (issue 16 §2): one buyer, `sellers` sellers (two demo
 * workers each) and `tiles` tiles that all reference one generated asset of `assetMib` MiB
 * (RAYS-10), on real daemons (the loopback testnet). Run twice in one go: with the swarm (every
 * seller's node provides the asset while it holds it, so sellers fetch it from each other) and
 * without (sellers started with `--no-provide`: each fetches it from the buyer alone). Reports
 * the buyer's upload per asset byte in both runs (`libp2p_data_transfer_bytes_total{protocol=
 * "global sent"}` of the buyer's node, all protocols) and each job's wall time from the first
 * buy to the last tile. Tiles are small (160×120 at 1 sample) so that the bench measures the
 * transfer, not the tracer. Targets: `buyer_upload_bytes_per_asset_byte` ≤ 1.5 (≈ `sellers`
 * without the swarm) and `wall_ms` < `wall_ms_without_swarm`.
 *
 * `npm run bench -- --json --filter swarm [--asset-mib M] [--sellers S] [--tiles T]`.
 */

/** Options of {@link runSwarm}. */
export interface SwarmOptions {
  readonly sellers: number
  readonly tiles: number
  readonly assetMib: number
  /** Progress lines (human); none by default. */
  readonly log?: (line: string) => void
  readonly signal?: AbortSignal
}

/** The bench's figures. */
export type SwarmFigures = {
  sellers: number
  tiles: number
  asset_mib: number
  buyer_upload_bytes_per_asset_byte: number
  without_swarm: number
  wall_ms: number
  wall_ms_without_swarm: number
  /** Both runs finished every tile with the image equal to the reference render. */
  images_match: boolean
}

/** The bench's image: 16 tiles of 40×30 at one sample cost a few ms of rendering each. */
const SWARM_IMAGE = { width: 160, height: 120, samples: 1 } as const

/** One testnet run of the bench; `provide` false starts the sellers with `--no-provide`. */
async function runOnce(o: SwarmOptions, provide: boolean): Promise<TestnetSummary> {
  const out = await mkdtemp(join(tmpdir(), 'bitwrk-swarm-'))
  try {
    const summary = await runTestnet({
      nodes: o.sellers + 1,
      jobs: o.tiles,
      outDir: out,
      log: o.log ?? (() => {}),
      signal: o.signal ?? new AbortController().signal,
      assetMib: o.assetMib,
      image: SWARM_IMAGE,
      // node0 is the buyer; the sellers of the baseline do not re-provide what they fetched
      daemonArgs: (name) => (provide || name === 'node0' ? [] : ['--no-provide'])
    })
    if (summary.finished !== o.tiles || summary.buyer_upload_bytes_per_asset_byte === undefined)
      throw new Error(`${provide ? 'swarm' : 'baseline'} run: ${summary.finished}/${o.tiles} tiles finished`)
    return summary
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}

/** Runs the swarm and the baseline (sellers with `--no-provide`) one after the other. */
export async function runSwarm(o: SwarmOptions): Promise<SwarmFigures> {
  const swarm = await runOnce(o, true)
  const baseline = await runOnce(o, false)
  return {
    sellers: o.sellers,
    tiles: o.tiles,
    asset_mib: o.assetMib,
    buyer_upload_bytes_per_asset_byte: swarm.buyer_upload_bytes_per_asset_byte as number,
    without_swarm: baseline.buyer_upload_bytes_per_asset_byte as number,
    wall_ms: swarm.job_wall_ms as number,
    wall_ms_without_swarm: baseline.job_wall_ms as number,
    images_match: swarm.image_matches_reference && baseline.image_matches_reference
  }
}

/** The value after `--name` in `args` as a number, or `dflt`. */
function numberArg(args: readonly string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`)
  if (i < 0) return dflt
  const v = Number(args[i + 1])
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`)
  return v
}

/** The `swarm` bench (issue 16 §2), found by scripts/bench.ts in this folder. */
export const bench: Bench = {
  name: 'swarm',
  async run({ quick, args }) {
    return runSwarm({
      sellers: numberArg(args, 'sellers', quick ? 3 : 8),
      tiles: numberArg(args, 'tiles', quick ? 4 : 16),
      assetMib: numberArg(args, 'asset-mib', quick ? 8 : 64),
      log: (line) => process.stderr.write(`swarm: ${line}\n`)
    })
  }
}
