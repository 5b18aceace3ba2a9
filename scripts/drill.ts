import '../node/polyfill.js'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * `npm run drill -- [--json] [--only NAME] [--quick]`: runs every fault drill found in
 * `scripts/drills/` (each module exports `drill: Drill`; `*-child.ts` are child-process scripts). A drill starts real nodes on
 * loopback, injects a fault and checks the outcome; it prints one line
 * `{"drill":NAME,"passed":true|false,…figures}`. The runner exits non-zero when any drill
 * failed or threw (a thrown drill is reported as `passed:false` with its reason).
 */
export interface Drill {
  /** Name printed as `"drill"` and matched by `--only`. */
  name: string
  /** Runs the drill; `small` asks for small sizes (tests, `--quick`). */
  run: (opts: DrillOptions) => Promise<DrillResult>
}

/** Options every drill accepts. */
export interface DrillOptions {
  /** Small sizes for the mocha test and `--quick`. */
  small: boolean
}

/** Outcome of a drill: `passed` plus its figures; a failed drill says why in `reason`. */
export type DrillResult = { passed: boolean; reason?: string } & Record<string, unknown>

/** Runs `d`, turning a throw into `passed:false` with the error as reason. */
export async function runDrill(d: Drill, opts: DrillOptions): Promise<DrillResult> {
  try {
    return await d.run(opts)
  } catch (err) {
    return { passed: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

/** The drill modules in `scripts/drills/`, sorted by file name. */
export async function loadDrills(): Promise<Drill[]> {
  const dir = fileURLToPath(new URL('./drills/', import.meta.url))
  const out: Drill[] = []
  for (const f of readdirSync(dir)
    // `*-child.js` are the drills' child-process scripts: importing one would run it
    .filter((x) => x.endsWith('.js') && !x.endsWith('-child.js'))
    .sort()) {
    const mod = (await import(new URL(`./drills/${f}`, import.meta.url).href)) as { drill?: Drill }
    if (mod.drill) out.push(mod.drill)
  }
  return out
}

/** One JSON line: bigint figures as decimal strings. */
export function drillLine(name: string, result: DrillResult): string {
  return JSON.stringify({ drill: name, ...result }, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v
  )
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const json = args.includes('--json')
  const small = args.includes('--quick')
  const oi = args.indexOf('--only')
  const only = oi >= 0 ? args[oi + 1] : undefined
  const drills = (await loadDrills()).filter((d) => only === undefined || d.name === only)
  if (only !== undefined && drills.length === 0) {
    console.error(`no drill named ${only}`)
    process.exitCode = 2
    return
  }
  let failed = false
  for (const d of drills) {
    const result = await runDrill(d, { small })
    if (!result.passed) failed = true
    if (json) console.log(drillLine(d.name, result))
    else
      console.log(
        `${result.passed ? 'PASS' : 'FAIL'} ${d.name}: ${Object.entries(result)
          .filter(([k]) => k !== 'passed')
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ')}`
      )
  }
  process.exitCode = failed ? 1 : 0
}

// Only as the entry point: the mocha test imports this module for its helpers.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main()
