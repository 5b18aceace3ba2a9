import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { workerCommand } from '../../cli/worker/worker.js'
import { findBlender } from '../../node/blender/index.js'
import { runCli } from '../cli/run.js'

/** The compiled testnet script (this file runs from dist/test/blender/). */
const TESTNET = fileURLToPath(new URL('../../scripts/testnet.js', import.meta.url))
/** 2 nodes, 2 tiles of the 160×120 test scene (~30 s measured on the shared 2-core machine). */
const TESTNET_MS = 100_000

function io(): { err: string[]; io: Parameters<typeof workerCommand>[1] } {
  const err: string[] = []
  return {
    err,
    io: { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, env: {} }
  }
}

describe('blender command lines (BLEND-1, BLEND-8, BLEND-10)', function () {
  this.timeout(TESTNET_MS + 10_000)

  const refused: [string, string[], RegExp][] = [
    ['a Blender that is not there', ['--blender', '/nonexistent/blender'], /CLI_BAD_ARGUMENT/],
    [
      'an original 2.79 article for the 3.4 worker',
      ['--blender', '/bin/sh', '--article', 'net.bitwrk/blender/0/2.79/512M'],
      /BLENDER_BAD_ARTICLE/
    ],
    ['--demo with --blender', ['--demo', '--blender', '/bin/sh'], /CLI_BAD_ARGUMENT/],
    ['a render timeout of 0', ['--blender', '/bin/sh', '--render-timeout', '0'], /CLI_BAD_ARGUMENT/]
  ]
  for (const [what, argv, code] of refused)
    it(`worker refuses ${what} before registering`, async () => {
      const t = io()
      const status = await workerCommand(
        [...argv, '--api', 'http://127.0.0.1:9'],
        t.io,
        new AbortController().signal
      )
      assert.notEqual(status, 0)
      assert.match(t.err.join(''), code)
    })

  it('render refuses bad flags in one line without a daemon', async () => {
    for (const [argv, code] of [
      [['render', 'x.blend', '--tiles', '2', '--out', 'f.png'], 'CLI_MISSING_ARGUMENT'],
      [['render', 'x.blend', '--frame', '1', '--tiles', '0', '--out', 'f.png'], 'CLI_BAD_ARGUMENT'],
      [
        ['render', 'x.blend', '--frame', '1', '--tiles', '2', '--out', 'f.png', '--size', '10x0'],
        'CLI_BAD_ARGUMENT'
      ],
      [
        ['render', 'x.blend', '--frame', '1', '--tiles', '2', '--out', 'f.png', '--article', 'fnord'],
        'BLENDER_BAD_ARTICLE'
      ]
    ] as const) {
      const r = await runCli(argv, {})
      assert.notEqual(r.code, 0, argv.join(' '))
      assert.match(r.stderr, new RegExp(code), argv.join(' '))
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })

  it('npm run testnet -- --article blender: every tile finishes and the frame matches the local render', async () => {
    assert.ok(findBlender() !== undefined, 'this test needs Blender: apt-get install blender')
    const out = await mkdtemp(join(tmpdir(), 'bitwrk-testnet-blender-'))
    try {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [TESTNET, '--article', 'blender', '--nodes', '2', '--jobs', '2', '--json', '--out', out],
          { timeout: TESTNET_MS, encoding: 'utf8', killSignal: 'SIGINT' },
          (err, so, se) =>
            err !== null && typeof err.code !== 'number' ? reject(new Error(se)) : resolve(so)
        )
      )
      const s = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
      const f = s['figures'] as Record<string, unknown>
      assert.equal(s['article'], 'net.bitwrk/blender/0/3.4/512M')
      assert.equal(s['finished'], 2)
      assert.equal(s['image_matches_reference'], true)
      assert.ok((f['frame_max_channel_diff'] as number) <= (f['tolerance'] as number))
      assert.ok((f['blend_bytes'] as number) > 100_000)
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
})
