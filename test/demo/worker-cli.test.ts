import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import {
  cropImage,
  DemoCode,
  decodePng,
  defaultScene,
  encodeWork,
  imagesEqual,
  renderImage,
  WORK_MAX_BYTES
} from '../../node/demo/index.js'
import { type ProgramRun, runProgram } from '../support/program.js'

/** The compiled worker program (this test runs from dist/test/demo/). */
const CLI = fileURLToPath(new URL('../../node/demo/worker-cli.js', import.meta.url))
/** Deadline of one worker run; a 20×12 tile takes milliseconds, node start-up dominates. */
const RUN_TIMEOUT_MS = 20_000

function run(input: Uint8Array): Promise<ProgramRun> {
  return runProgram([CLI], input, { timeoutMs: RUN_TIMEOUT_MS })
}

describe('demo/worker-cli', () => {
  const scene = defaultScene()

  it('renders good work to a PNG of the tile, equal to the same rectangle rendered in this process', async () => {
    const tile = { x: 10, y: 6, w: 20, h: 12 }
    const r = await run(encodeWork({ scene, width: 48, height: 32, tile, samples: 2 }))
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    const img = decodePng(new Uint8Array(r.stdout))
    assert.equal(img.width, 20)
    assert.equal(img.height, 12)
    assert.ok(imagesEqual(img, cropImage(renderImage(scene, 48, 32, 2), tile)))
  })

  for (const [label, input, code] of [
    ['garbage', new TextEncoder().encode('hello, worker'), DemoCode.badWork],
    ['empty input', new Uint8Array(0), DemoCode.badWork],
    ['oversized input', new Uint8Array(WORK_MAX_BYTES + 100_000).fill(0x7b), DemoCode.workTooLarge],
    [
      'tile outside the image',
      new TextEncoder().encode(
        new TextDecoder()
          .decode(encodeWork({ scene, width: 8, height: 8, tile: { x: 0, y: 0, w: 8, h: 8 }, samples: 1 }))
          .replace('"x":0', '"x":4')
      ),
      DemoCode.badTile
    ]
  ] as const)
    it(`exits 2 with one line on stderr for bad work: ${label}`, async () => {
      const r = await run(input)
      assert.equal(r.code, 2)
      assert.equal(r.stdout.length, 0)
      assert.match(r.stderr, new RegExp(`^${code}: [^\\n]*\\n$`))
    })
})
