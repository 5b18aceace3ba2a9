import assert from 'node:assert/strict'
import { parseArgs } from '../../cli/args.js'
import { isBitwrkError } from '../../protocol/errors.js'

const SPEC = { wif: 'string', help: 'boolean' } as const

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(isBitwrkError(err))
    return err.code
  }
  return 'none'
}

describe('cli/args', () => {
  it('parses flags in both forms and keeps positionals in order', () => {
    assert.deepEqual(parseArgs(['a', '--wif', 'W', 'b'], SPEC, { min: 0, max: 2 }), {
      flags: { wif: 'W' },
      positionals: ['a', 'b']
    })
    assert.deepEqual(parseArgs(['--wif=x=y', '--help'], SPEC, { min: 0, max: 0 }).flags, {
      wif: 'x=y',
      help: true
    })
  })

  it('takes everything after -- and a lone - as positionals', () => {
    assert.deepEqual(parseArgs(['-', '--', '--wif', '-x'], SPEC, { min: 0, max: 3 }).positionals, [
      '-',
      '--wif',
      '-x'
    ])
  })

  it('fails with a usage code for unknown, repeated or valueless flags and wrong counts', () => {
    assert.equal(
      code(() => parseArgs(['--nope'], SPEC, { min: 0, max: 1 })),
      'CLI_UNKNOWN_FLAG'
    )
    assert.equal(
      code(() => parseArgs(['-w'], SPEC, { min: 0, max: 1 })),
      'CLI_UNKNOWN_FLAG'
    )
    assert.equal(
      code(() => parseArgs(['--constructor'], SPEC, { min: 0, max: 1 })),
      'CLI_UNKNOWN_FLAG'
    )
    assert.equal(
      code(() => parseArgs(['---wif', 'x'], SPEC, { min: 0, max: 1 })),
      'CLI_UNKNOWN_FLAG'
    )
    assert.equal(
      code(() => parseArgs(['--help', '--help'], SPEC, { min: 0, max: 1 })),
      'CLI_DUPLICATE_FLAG'
    )
    assert.equal(
      code(() => parseArgs(['--wif'], SPEC, { min: 0, max: 1 })),
      'CLI_MISSING_VALUE'
    )
    assert.equal(
      code(() => parseArgs(['--help=1'], SPEC, { min: 0, max: 1 })),
      'CLI_BAD_ARGUMENT'
    )
    assert.equal(
      code(() => parseArgs([], SPEC, { min: 1, max: 1 })),
      'CLI_MISSING_ARGUMENT'
    )
    assert.equal(
      code(() => parseArgs(['a', 'b'], SPEC, { min: 0, max: 1 })),
      'CLI_EXTRA_ARGUMENT'
    )
  })
})
