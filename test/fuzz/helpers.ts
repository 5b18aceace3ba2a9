import assert from 'node:assert/strict'
import fc from 'fast-check'
import { BitwrkError } from '../../protocol/errors.js'

/** Generated cases per surface (issue 6: at least 1,000). */
export const RUNS = 1000

/**
 * The fast-check seed of every fuzz run: fixed, so a run is reproducible and the tallies the
 * tests assert on (e.g. at least two distinct codes) cannot change from one CI run to the next.
 * `BITWRK_FUZZ_SEED=n npm test` explores another seed by hand.
 */
export const FUZZ_SEED = Number(process.env.BITWRK_FUZZ_SEED ?? 0x5eed)

/** fast-check parameters of every fuzz property: {@link RUNS} cases from {@link FUZZ_SEED}. */
export const FUZZ = { numRuns: RUNS, seed: FUZZ_SEED } as const

/** Every code value of one or more `const` code objects. */
export function codesOf(...objects: Readonly<Record<string, string>>[]): ReadonlySet<string> {
  return new Set(objects.flatMap((o) => Object.values(o)))
}

/**
 * Hostile bytes around valid encodings (noble's garbage tables, generated): random bytes, and
 * each seed truncated, bit-flipped, overwritten, with bytes inserted or deleted, extended with
 * junk, or spliced with another seed.
 */
export function hostileBytes(seeds: readonly Uint8Array[], maxRandom = 256): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds)
  const mutation = fc
    .tuple(
      seed,
      fc.nat(),
      fc.nat(),
      fc.uint8Array({ minLength: 1, maxLength: 16 }),
      fc.integer({ min: 0, max: 7 })
    )
    .map(([s, a, b, junk, kind]) => {
      const i = s.length === 0 ? 0 : a % s.length
      const out = Uint8Array.from(s)
      switch (kind) {
        case 0:
          return s.subarray(0, i)
        case 1:
          if (out.length > 0) out[i] = (out[i] as number) ^ (1 << (b % 8))
          return out
        case 2:
          for (let k = 0; k < junk.length && i + k < out.length; k++) out[i + k] = junk[k] as number
          return out
        case 3:
          return concat(s.subarray(0, i), junk, s.subarray(i))
        case 4:
          return concat(s.subarray(0, i), s.subarray(Math.min(s.length, i + 1 + (b % 16))))
        case 5:
          return concat(s, junk)
        case 6: {
          const other = seeds[b % seeds.length] as Uint8Array
          return concat(s.subarray(0, i), other.subarray(b % Math.max(1, other.length)))
        }
        default:
          // a few bit flips at once
          for (let k = 0; k < 1 + (b % 4) && out.length > 0; k++) {
            const j = (a + k * 7919) % out.length
            out[j] = (out[j] as number) ^ (1 << ((b + k) % 8))
          }
          return out
      }
    })
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandom }) },
    { weight: 1, arbitrary: seed },
    { weight: 6, arbitrary: mutation }
  )
}

/** Hostile text around valid strings: random (incl. non-ASCII) strings and mutated seeds (latin1). */
export function hostileText(seeds: readonly string[]): fc.Arbitrary<string> {
  const bytes = seeds.map((s) => Uint8Array.from(Buffer.from(s, 'latin1')))
  return fc.oneof(
    fc.string({ maxLength: 120, unit: 'grapheme' }),
    fc.string({ maxLength: 120, unit: 'binary' }),
    hostileBytes(bytes, 80).map((b) => Buffer.from(b).toString('latin1'))
  )
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * Runs `fn`: returns `'ok'` when it returns, the code when it throws a {@link BitwrkError} with
 * a code of `codes`; anything else (another error class, an unknown code) fails the assertion.
 */
export function outcome(fn: () => unknown, codes: ReadonlySet<string>, what: string): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    assert.ok(err instanceof BitwrkError, `${what}: threw a non-BitwrkError: ${String(err)}`)
    assert.ok(codes.has(err.code), `${what}: undocumented code ${err.code}`)
    return err.code
  }
}

/** Counts outcomes by label (a table for the assertion that both sides were reached). */
export class Tally {
  readonly counts = new Map<string, number>()
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1)
  }
  /** Distinct error codes seen (labels other than `ok`). */
  codes(): number {
    return [...this.counts.keys()].filter((k) => k !== 'ok').length
  }
  toString(): string {
    return JSON.stringify(Object.fromEntries(this.counts))
  }
}

/**
 * Counts unhandled promise rejections and uncaught exceptions from `start()` on (a hostile
 * input must not leave one behind, even when the answer looked right); `stop()` returns them.
 */
export function trackUnhandled(): { stop(): string[] } {
  const seen: string[] = []
  const onRejection = (reason: unknown): void => {
    seen.push(`unhandled rejection: ${String(reason)}`)
  }
  const onException = (err: Error): void => {
    seen.push(`uncaught exception: ${String(err)}`)
  }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtExceptionMonitor', onException)
  return {
    stop() {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtExceptionMonitor', onException)
      return seen
    }
  }
}
