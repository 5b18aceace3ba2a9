import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BlenderCode,
  createTestScene,
  encodeBlenderWork,
  findBlender,
  renderBlenderWork,
  tileOf
} from '../../node/blender/index.js'
import { cropImage, decodePng, imagesEqual } from '../../node/demo/index.js'
import { waitFor } from '../../node/testing.js'
import { runProgram } from '../support/program.js'

/** The compiled worker program (this test runs from dist/test/blender/). */
const CLI = fileURLToPath(new URL('../../node/blender/worker-cli.js', import.meta.url))
/** A small scene: 80×60 at 4 samples renders in about a second on one core. */
const SMALL = { width: 80, height: 60, samples: 4, seed: 3 }
/** A costly one: 4096 samples take far longer than the 1 s limit of the timeout test. */
const SLOW = { width: 80, height: 60, samples: 4096, seed: 3 }
const MAX_COST = 512 * 2 ** 20
const RUN_TIMEOUT_MS = 60_000

/** Runs the worker program on `work` with its temporary files under `tmp`. */
function run(blender: string, tmp: string, work: Uint8Array, extra: string[] = []) {
  return runProgram(
    [CLI, '--blender', blender, '--max-cost', String(MAX_COST), '--threads', '1', ...extra],
    work,
    {
      timeoutMs: RUN_TIMEOUT_MS,
      env: { PATH: process.env['PATH'] ?? '', TMPDIR: tmp }
    }
  )
}

/** Processes whose command line mentions `text` (Blender runs with its job directory's paths). */
async function processesMentioning(text: string): Promise<number> {
  let n = 0
  for (const pid of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue
    try {
      if ((await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(text)) n++
    } catch {
      // gone meanwhile
    }
  }
  return n
}

describe("blender worker (BLEND-7, BLEND-8) with Debian's Blender", function () {
  this.timeout(120_000)
  const blender = findBlender()
  let tmp = ''
  let blend: Uint8Array = new Uint8Array(0)
  let slow: Uint8Array = new Uint8Array(0)

  before(async () => {
    assert.ok(
      blender !== undefined,
      'these tests need Blender: apt-get install blender (.ci/run installs it)'
    )
    tmp = await mkdtemp(join(tmpdir(), 'bitwrk-blender-test-'))
    ;[blend, slow] = await Promise.all([createTestScene(blender, SMALL), createTestScene(blender, SLOW)])
  })
  after(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true })
  })
  afterEach(async () => {
    // the job's directory is gone on every exit path
    if (tmp !== '') assert.deepEqual(await readdir(tmp), [])
  })

  const work = (b: Uint8Array, bounds = { xmin: 20, ymin: 10, xmax: 60, ymax: 40 }): Uint8Array =>
    encodeBlenderWork({ ...bounds, frame: 1, blend: b })

  it('renders a tile whose pixels equal the same rectangle of a single-process full render', async () => {
    const bounds = { xmin: 20, ymin: 10, xmax: 60, ymax: 40 }
    const [r, full] = await Promise.all([
      run(blender as string, tmp, work(blend, bounds)),
      renderBlenderWork(work(blend, { xmin: 0, ymin: 0, xmax: 80, ymax: 60 }), {
        blender: blender as string,
        maxCost: MAX_COST,
        timeoutMs: RUN_TIMEOUT_MS,
        threads: 2,
        tmpRoot: tmp
      })
    ])
    assert.equal(r.code, 0, r.stderr)
    const tile = decodePng(new Uint8Array(r.stdout))
    assert.equal(tile.width, 40)
    assert.equal(tile.height, 30)
    const t = tileOf(bounds, 60)
    assert.ok(imagesEqual(tile, cropImage(decodePng(full), t)), 'tile differs from the full render')
  })

  const refusals: [string, () => Uint8Array, string[], string][] = [
    [
      'a tile outside the image',
      () => work(blend, { xmin: 0, ymin: 0, xmax: 81, ymax: 10 }),
      [],
      BlenderCode.tileOutside
    ],
    ['work above the cost class', () => work(blend), ['--max-cost', '1000'], BlenderCode.workTooCostly],
    [
      'a .blend Blender cannot read',
      () => work(new Uint8Array(Buffer.concat([Buffer.from('BLENDER-v304'), Buffer.alloc(200, 0x5a)]))),
      [],
      BlenderCode.badBlend
    ],
    [
      'an empty tile (refused before Blender starts)',
      () => {
        const w = work(blend, { xmin: 5, ymin: 5, xmax: 6, ymax: 9 })
        // xmax's value (third record, bytes 32 … 35) set to xmin's: the encoder would refuse it
        new DataView(w.buffer, w.byteOffset).setInt32(32, 5)
        return w
      },
      [],
      BlenderCode.badTile
    ],
    ['a render beyond the time limit', () => work(slow), ['--timeout', '1'], BlenderCode.timeout]
  ]
  for (const [what, make, extra, code] of refusals)
    it(`refuses ${what} with ${code} in one line, exit 2`, async () => {
      const r = await run(blender as string, tmp, make(), extra)
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stdout.length, 0)
      assert.match(r.stderr, new RegExp(`^${code}: [^\\n]*\\n$`))
    })

  it('refuses a .blend that names a file outside itself (an image at /etc/hostname) with BLENDER_EXTERNAL_FILE', async () => {
    // the seller's files must never reach a tile: a scene that references one is refused unrendered
    const hostile = await createTestScene(blender as string, {
      ...SMALL,
      extraPython:
        "n = bpy.data.materials['ground'].node_tree.nodes.new('ShaderNodeTexImage'); n.image = bpy.data.images.load('/etc/hostname')"
    })
    const r = await run(blender as string, tmp, work(hostile))
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^BLENDER_EXTERNAL_FILE: /)
  })

  it("SIGTERM kills Blender's process group and removes the job directory", async () => {
    const r = run(blender as string, tmp, work(slow), ['--timeout', '60'])
    // Blender is running once a process mentions the job directory
    let dir = ''
    await waitFor(
      async () => {
        const dirs = await readdir(tmp)
        dir = dirs[0] ?? ''
        return dir !== '' && (await processesMentioning(join(tmp, dir))) > 0
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'Blender running' }
    )
    process.kill(r.pid() as number, 'SIGTERM')
    const done = await r
    assert.equal(done.code, 2)
    assert.equal(await processesMentioning(join(tmp, dir)), 0)
  })
})
