import '../node/polyfill.js'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * `npm run bench -- [--json] [--filter NAME]`: runs every benchmark module found in
 * `scripts/bench/` (each exports `bench: Bench`) and prints one JSON object per line with
 * `--json`, or a short human line otherwise. Ratios are measured side by side in one run.
 */
export interface Bench {
  /** Name printed as `"bench"` and matched by `--filter`. */
  name: string
  /**
   * Runs the benchmark and returns its figures (without the `bench` key); a list gives one line
   * per entry (e.g. one per scenario).
   */
  run: (opts: {
    quick: boolean
    args: readonly string[]
  }) => Promise<Record<string, unknown> | Record<string, unknown>[]>
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const json = args.includes('--json')
  const quick = args.includes('--quick')
  const fi = args.indexOf('--filter')
  const filter = fi >= 0 ? args[fi + 1] : undefined
  const dir = fileURLToPath(new URL('./bench/', import.meta.url))
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()
  let failed = false
  for (const f of files) {
    const mod = (await import(new URL(`./bench/${f}`, import.meta.url).href)) as { bench?: Bench }
    const b = mod.bench
    if (!b) continue
    if (filter && !b.name.includes(filter)) continue
    try {
      const result = await b.run({ quick, args })
      for (const figures of Array.isArray(result) ? result : [result]) {
        const line = { bench: b.name, ...figures }
        if (json)
          console.log(JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
        else
          console.log(
            `${b.name}: ${Object.entries(figures)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(' ')}`
          )
      }
    } catch (err) {
      failed = true
      console.error(`bench ${b.name} failed:`, err)
    }
  }
  process.exitCode = failed ? 1 : 0
}

await main()
