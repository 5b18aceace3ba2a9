import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BLENDER_ARTICLE,
  createTestScene,
  encodeBlenderWork,
  findBlender,
  renderBlenderWork
} from '../../node/blender/index.js'
import { decodePng, imagesEqual } from '../../node/demo/index.js'
import { type NodeProc, ProcessGroup } from '../../scripts/testnet/processes.js'
import { runCli } from '../cli/run.js'
import { getJson, postJson } from '../support/http.js'

/** A daemon's start (its own deadline; ~2 s measured). */
const READY_MS = 30_000
/** The whole render over the market: 4 tiles of 80×60 at 4 samples (~15 s measured on 2 cores). */
const RENDER_MS = 90_000
const SCENE = { width: 80, height: 60, samples: 4, seed: 5 }

describe('blender render over real daemons (issue 17)', function () {
  this.timeout(RENDER_MS + 60_000)
  const procs = new ProcessGroup()
  const blender = findBlender()
  let base: string | undefined
  let buyer: NodeProc
  let scene = ''
  let blend: Uint8Array = new Uint8Array(0)

  before(async () => {
    assert.ok(blender !== undefined, 'this test needs Blender: apt-get install blender (.ci/run installs it)')
    base = await mkdtemp(join(tmpdir(), 'bitwrk-blender-e2e-'))
    const dir = base
    blend = await createTestScene(blender, SCENE)
    scene = join(dir, 'scene.blend')
    await writeFile(scene, blend)
    buyer = await procs.startNode('buyer', join(dir, 'buyer'), [], READY_MS)
    const seller = await procs.startNode(
      'seller',
      join(dir, 'seller'),
      ['--bootstrap', buyer.listen[0] as string],
      READY_MS
    )
    await postJson(`${seller.api}/api/v1/mandates`, {
      article: BLENDER_ARTICLE,
      side: 'SELL',
      price: 'mBTC 1',
      trades: 100
    })
    // two Blender workers on the seller, as `bitwrk-node worker --blender` starts them
    for (const w of [0, 1])
      procs.startWorker(`blender-${w}`, seller.api, BLENDER_ARTICLE, undefined, ['--blender', blender])
    await postJson(`${buyer.api}/api/v1/mandates`, {
      article: BLENDER_ARTICLE,
      side: 'BUY',
      price: 'mBTC 2',
      trades: 100
    })
  })

  /** `render` of 2 tiles of an 80×60 frame through the buyer, with `extra` flags. */
  const twoTiles = (file: string, out: string, ...extra: string[]): string[] => [
    'render',
    file,
    ...['--frame', '1', '--tiles', '2', '--size', '80x60', '--out', out, '--api', buyer.api],
    ...extra
  ]

  after(async () => {
    await procs.stopAll(10_000)
    if (base !== undefined) await rm(base, { recursive: true, force: true })
  })

  it('`bitwrk-node render` buys 4 tiles and writes the frame a single local render makes', async () => {
    const out = join(base as string, 'frame.png')
    // no --size: the buyer's Blender reads the frame's size from the .blend
    const r = await runCli(
      ['render', scene, '--frame', '1', '--tiles', '4', '--out', out, '--api', buyer.api],
      {},
      { timeoutMs: RENDER_MS }
    )
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /frame 1 of .* \(80x60\) as 4 tiles/)
    assert.match(r.stderr, /tile 4\/4: done/)
    const frame = decodePng(new Uint8Array(await readFile(out)))
    const whole = encodeBlenderWork({ xmin: 0, ymin: 0, xmax: 80, ymax: 60, frame: 1, blend })
    const local = decodePng(
      await renderBlenderWork(whole, {
        blender: blender as string,
        maxCost: 2 ** 29,
        timeoutMs: 60_000,
        threads: 2
      })
    )
    assert.ok(imagesEqual(frame, local), 'the market frame differs from the local render')
    // every tile was a real trade with the seller
    const acts = (await getJson(`${buyer.api}/api/v1/activities`)) as {
      article: string
      phase: string
      counterparty?: string | null
    }[]
    const bought = acts.filter((a) => a.article === BLENDER_ARTICLE)
    assert.equal(bought.length, 4)
    assert.ok(bought.every((a) => typeof a.counterparty === 'string'))
    // the dashboard shows the frame filled in, tile by tile, as the buys finish
    const images = (await getJson(`${buyer.api}/api/v1/demo/images`)) as {
      id: string
      width: number
      height: number
      frame?: number
      tiles: { state: string }[]
    }[]
    const shown = images.find((im) => im.frame === 1)
    assert.ok(shown !== undefined, 'the dashboard lists no Blender frame')
    assert.deepEqual([shown.width, shown.height, shown.tiles.length], [80, 60, 4])
    assert.ok(shown.tiles.every((t) => t.state === 'done'))
    const png = await fetch(`${buyer.api}/api/v1/demo/images/${shown.id}.png`)
    assert.equal(png.status, 200)
    assert.ok(
      imagesEqual(decodePng(new Uint8Array(await png.arrayBuffer())), local),
      'the dashboard frame differs'
    )
  })

  it('fails in one line and writes nothing when tiles cannot be bought (no mandate for the class)', async () => {
    const out = join(base as string, 'none.png')
    const r = await runCli(
      twoTiles(scene, out, '--article', 'net.bitwrk/blender/0/3.4/2G', '--concurrency', '1'),
      {}
    )
    assert.equal(r.code, 1)
    assert.match(r.stderr, /2 of 2 tiles failed \(tile 1: 403 API_NO_MANDATE.*\[CLI_RENDER_TILES_FAILED\]/)
    await assert.rejects(readFile(out))
  })

  it('refuses a compressed .blend before buying anything (BLENDER_COMPRESSED_BLEND)', async () => {
    const gz = join(base as string, 'gz.blend')
    await writeFile(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]))
    const r = await runCli(twoTiles(gz, join(base as string, 'x.png')), {})
    assert.equal(r.code, 1)
    assert.match(r.stderr, /BLENDER_COMPRESSED_BLEND/)
  })
})
