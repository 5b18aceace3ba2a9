import assert from 'node:assert/strict'
import { importStream, MemoryChunkStore } from '../../cafs/index.js'
import { blenderTiles, encodeBlenderWork } from '../../node/blender/index.js'
import { DemoImages } from '../../node/daemon/demo-images.js'

const ARTICLE = 'net.bitwrk/blender/0/3.4/512M'
/** A stand-in .blend: BLEND-5 reads only its header; 200 kB so that the work spans several chunks. */
const BLEND = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251)
BLEND.set(Buffer.from('BLENDER-v304'))

describe('dashboard images of Blender frames (API-15, BLEND-10)', () => {
  it("groups a frame's tiles by .blend and frame, sized by the tiles, rows from the top", async () => {
    const store = new MemoryChunkStore()
    const images = new DemoImages(store)
    const put = async (bytes: Uint8Array) => importStream([bytes], store)
    const tiles = blenderTiles(160, 120, 4)
    for (const t of tiles) {
      const handle = await images.track(
        await put(encodeBlenderWork({ ...t.bounds, frame: 3, blend: BLEND })),
        ARTICLE
      )
      assert.ok(handle !== undefined)
    }
    // another frame of the same scene is another image
    await images.track(
      await put(encodeBlenderWork({ xmin: 0, ymin: 60, xmax: 53, ymax: 120, frame: 4, blend: BLEND })),
      ARTICLE
    )
    const list = images.list()
    assert.equal(list.length, 2)
    const f = list[0]
    assert.deepEqual([f?.width, f?.height, f?.frame, f?.samples], [160, 120, 3, 0])
    assert.deepEqual(
      f?.tiles.map(({ x, y, w, h }) => [x, y, w, h]),
      tiles.map(({ tile: t }) => [t.x, t.y, t.w, t.h])
    )
  })

  it('ignores work that is not a Blender stream, or whose blen length disagrees with its size', async () => {
    const store = new MemoryChunkStore()
    const images = new DemoImages(store)
    const good = encodeBlenderWork({ xmin: 0, ymin: 0, xmax: 8, ymax: 8, frame: 1, blend: BLEND })
    const longer = new Uint8Array(good.length + 1)
    longer.set(good)
    const bad = [new Uint8Array(100), Buffer.from('{"article":"net.bitwrk/rays/0"}'.padEnd(100)), longer]
    for (const b of bad)
      assert.equal(await images.track(await importStream([new Uint8Array(b)], store), ARTICLE), undefined)
    assert.equal(images.list().length, 0)
  })
})
