import '../node/polyfill.js'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { findBlender } from '../node/blender/index.js'
import { MAX_ASSET_MIB } from './testnet/asset.js'
import { blenderJob } from './testnet/blender.js'
import { defaultNodesPerHome, type InternetPlan, internetUnavailable } from './testnet/internet/index.js'
import { failedSummary, planNodes, runTestnet, type TestnetJob, type TestnetSummary } from './testnet/run.js'

/**
 * `npm run testnet -- [--nodes N] [--jobs K] [--json] [--out DIR] [--screenshot PNG] [--cpu-prof NODE]
 * [--asset-mib M]`: the multi-node local testnet (issue 5); `--screenshot` saves the buyer's dashboard at the end;
 * `--asset-mib M` makes every tile reference one generated asset of M MiB (RAYS-10) that the buyer
 * uploads to its node, and adds `asset_mib`, `asset_key`, `buyer_upload_bytes`,
 * `buyer_upload_bytes_per_asset_byte` and `job_wall_ms` to the summary (issue 16 §2);
 * `--article blender [--blender PATH]` buys tiles of a Blender frame instead (issue 17,
 * scripts/testnet/blender.ts; 3 nodes and 8 tiles unless given); the summary then adds
 * `article` and `figures` (frame comparison, bytes pushed per tile).
 * `--cpu-prof node7` runs that daemon under `node --cpu-prof`, its profile written to
 * `<out>/profiles/` when it stops. Exit 0 only when every job finished, the image matches the
 * reference and no node is off the chain. The summary (`--json`: its last line) is {@link TestnetSummary}:
 * `nodes_off_chain` counts the nodes whose match digest, at the latest epoch every node has
 * closed, is not the majority's (null when they share none).
 *
 * `--internet [--public-nodes N] [--homes H] [--per-home A,B,…] [--public-sellers]
 * [--random-nat H,…|none] [--public-buyer] [--no-relays]` runs the daemons in an emulated internet of network namespaces
 * (issue 15; root, iproute2, nftables): N public nodes (default 2), H homes behind NAT routers
 * (default 3; the homes of `--random-nat`, default the last one, are `fully-random`), the buyer
 * in home 1 (on the last public node with `--public-buyer`, every home then selling) and the
 * sellers in the other homes, or on the public nodes with `--public-sellers`; `--no-relays`
 * makes the public nodes refuse to relay.
 * The summary then adds `nat_nodes`, `relayed_connections`, `direct_upgrades`,
 * `direct_upgrade_attempts`, `trades_direct`, `trades_over_relay` and `trades`.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '5' },
      jobs: { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'testnet-out' },
      screenshot: { type: 'string' },
      'cpu-prof': { type: 'string' },
      internet: { type: 'boolean', default: false },
      'public-nodes': { type: 'string', default: '2' },
      homes: { type: 'string', default: '3' },
      'per-home': { type: 'string' },
      'public-sellers': { type: 'boolean', default: false },
      'random-nat': { type: 'string' },
      'public-buyer': { type: 'boolean', default: false },
      'no-relays': { type: 'boolean', default: false },
      article: { type: 'string', default: 'rays' },
      blender: { type: 'string' },
      'asset-mib': { type: 'string' }
    }
  })
  const assetMib = values['asset-mib'] === undefined ? undefined : Number(values['asset-mib'])
  if (assetMib !== undefined && !(assetMib * 2 ** 20 >= 3 && assetMib <= MAX_ASSET_MIB)) {
    process.stderr.write(
      `testnet: --asset-mib must be a number of MiB, above 0 and at most ${MAX_ASSET_MIB}\n`
    )
    return 2
  }
  // --article blender (issue 17): 3 nodes and 8 tiles unless given, Blender from --blender or PATH
  let job: TestnetJob | undefined
  if (values.article === 'blender') {
    if (assetMib !== undefined) {
      process.stderr.write('testnet: --asset-mib is for the demo article\n')
      return 2
    }
    const blender = values.blender ?? findBlender()
    if (blender === undefined) {
      process.stderr.write(
        'testnet: --article blender needs Blender (apt-get install blender, or --blender PATH)\n'
      )
      return 2
    }
    job = blenderJob(blender)
    if (!process.argv.includes('--nodes')) values.nodes = '3'
    if (!process.argv.includes('--jobs')) values.jobs = '8'
  } else if (values.article !== 'rays') {
    process.stderr.write('testnet: --article is rays (the demo, default) or blender\n')
    return 2
  }
  let plan: InternetPlan | undefined
  if (values.internet) {
    const why = internetUnavailable()
    if (why !== undefined) {
      process.stderr.write(`testnet: --internet refused: ${why}\n`)
      return 2
    }
    const homes = Number(values.homes)
    const publicNodes = Number(values['public-nodes'])
    const perHome =
      values['per-home'] === undefined
        ? defaultNodesPerHome(homes)
        : values['per-home'].split(',').map(Number)
    const perHomeList =
      perHome.length === 1 ? Array.from({ length: homes }, () => perHome[0] as number) : perHome
    if (
      !Number.isInteger(homes) ||
      homes < 2 ||
      homes > 20 ||
      !Number.isInteger(publicNodes) ||
      publicNodes < 1 ||
      publicNodes > 10 ||
      perHomeList.length !== homes ||
      perHomeList.some((n) => !Number.isInteger(n) || n < 1 || n > 4)
    ) {
      process.stderr.write(
        'testnet: --homes must be 2 … 20, --public-nodes 1 … 10, --per-home 1 … 4 (one number or one per home)\n'
      )
      return 2
    }
    // --random-nat H[,H…] | none: the homes behind a fully-random NAT (default the last one)
    const randomNat = values['random-nat']
    const fullyRandomHomes =
      randomNat === undefined ? undefined : randomNat === 'none' ? [] : randomNat.split(',').map(Number)
    if (fullyRandomHomes?.some((h) => !Number.isInteger(h) || h < 1 || h > homes)) {
      process.stderr.write('testnet: --random-nat takes home numbers 1 … --homes, comma-separated, or none\n')
      return 2
    }
    plan = {
      publicNodes,
      homes,
      nodesPerHome: perHomeList,
      publicSellers: values['public-sellers'],
      publicBuyer: values['public-buyer'],
      noRelays: values['no-relays'],
      ...(fullyRandomHomes !== undefined ? { fullyRandomHomes } : {})
    }
  }
  const nodes = Number(values.nodes)
  const jobs = Number(values.jobs)
  if (
    !Number.isInteger(nodes) ||
    nodes < 2 ||
    nodes > 50 ||
    !Number.isInteger(jobs) ||
    jobs < 1 ||
    jobs > 256
  ) {
    process.stderr.write('testnet: --nodes must be 2 … 50 and --jobs 1 … 256\n')
    return 2
  }
  const ctl = new AbortController()
  const onSignal = (): void => {
    if (ctl.signal.aborted) process.exit(130)
    process.stderr.write('testnet: interrupted, tearing down (again to exit at once)\n')
    ctl.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // progress goes to stderr with --json so that stdout's last line is the JSON summary
  const out = values.json ? process.stderr : process.stdout
  const profiled = values['cpu-prof']
  const profiles = resolve(values.out, 'profiles')
  let summary: TestnetSummary
  try {
    summary = await runTestnet({
      nodes,
      jobs,
      outDir: values.out,
      signal: ctl.signal,
      ...(job !== undefined ? { job } : {}),
      ...(plan !== undefined ? { internet: plan } : {}),
      ...(assetMib !== undefined ? { assetMib } : {}),
      ...(values.screenshot !== undefined ? { screenshot: values.screenshot } : {}),
      ...(profiled !== undefined
        ? {
            nodeFlags: (name: string): string[] =>
              name === profiled ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []
          }
        : {}),
      log: (line) => out.write(`testnet: ${line}\n`)
    })
  } catch (err) {
    process.stderr.write(`testnet: failed: ${err instanceof Error ? err.message : String(err)}\n`)
    const failed =
      plan !== undefined
        ? failedSummary(planNodes(plan), jobs, planNodes(plan) - plan.publicNodes)
        : failedSummary(nodes, jobs)
    if (values.json) process.stdout.write(`${JSON.stringify(failed)}\n`)
    return 1
  }
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
  else
    process.stdout.write(
      `testnet: ${summary.finished}/${summary.jobs} jobs finished on ${summary.nodes} nodes` +
        `${summary.nat_nodes !== undefined ? ` (${summary.nat_nodes} behind NAT)` : ''}, image matches reference: ` +
        `${summary.image_matches_reference}, match digests agree: ${summary.match_digests_agree}, ` +
        `epochs agreeing everywhere: ${summary.epochs_all_agree_share}, nodes off chain: ${summary.nodes_off_chain}, ` +
        `trade latency p50 ${summary.trade_latency_ms.p50} ms p95 ${summary.trade_latency_ms.p95} ms, ${summary.trades_per_s} trades/s\n`
    )
  return summary.finished === summary.jobs && summary.image_matches_reference && summary.nodes_off_chain === 0
    ? 0
    : 1
}

process.exitCode = await main()
