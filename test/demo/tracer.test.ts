import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  assemble,
  cropImage,
  decodePng,
  defaultScene,
  encodePng,
  encodeWork,
  imagesEqual,
  mix32,
  noise,
  pixelSeed,
  renderImage,
  renderTile,
  renderWork,
  tilesFor
} from '../../node/demo/index.js'

/** Small sizes keep the suite fast (HELPERS.md): 64×48 at 2 samples is about 6k primary rays. */
const W = 64
const H = 48

describe('demo/tracer', () => {
  const scene = defaultScene()
  const full2 = renderImage(scene, W, H, 2)

  it('implements lowbias32 and the pixel seed of RAYS-6', () => {
    // Vectors computed independently (Python integers) from the definition; RAYS-6 lists them.
    assert.equal(mix32(0), 0)
    assert.equal(mix32(1), 0x688990c0)
    assert.equal(mix32(0xdeadbeef), 0xe628c683)
    assert.equal(pixelSeed(1, 2, 3), 0x3f8f8e9a)
    assert.equal(pixelSeed(7, 100, 200), 0xbc9b8eba)
    assert.deepEqual(
      [0, 1, 2].map((k) => noise(0x3f8f8e9a, k) * 2 ** 32),
      [0xab8a692d, 0x23d64072, 0x6ef2dd3e]
    )
  })

  it('renders the same tile twice to the same bytes', () => {
    const work = { scene, width: W, height: H, tile: { x: 8, y: 4, w: 20, h: 12 }, samples: 2 }
    assert.ok(imagesEqual(renderTile(work), renderTile(work)))
  })

  it('renders a tile exactly as the same rectangle of the full image', () => {
    const tile = { x: 13, y: 7, w: 17, h: 11 }
    const t = renderTile({ scene, width: W, height: H, tile, samples: 2 })
    assert.ok(imagesEqual(t, cropImage(full2, tile)))
  })

  for (const k of [1, 2, 3, 4, 6, 7, 16])
    it(`assembles ${k} tile(s), each through PNG, into the full render byte for byte`, () => {
      const placed = tilesFor(W, H, k).map((tile) => ({
        tile,
        image: decodePng(encodePng(renderTile({ scene, width: W, height: H, tile, samples: 2 })))
      }))
      assert.ok(imagesEqual(assemble(W, H, placed), full2))
    })

  it('gives the same pixels for one-pixel tiles in any order', () => {
    const tiles = tilesFor(8, 6, 48)
    const small = renderImage(scene, 8, 6, 3)
    const shuffled = [...tiles].reverse()
    const placed = shuffled.map((tile) => ({
      tile,
      image: renderTile({ scene, width: 8, height: 6, tile, samples: 3 })
    }))
    assert.ok(imagesEqual(assemble(8, 6, placed), small))
  })

  it('is opaque and not flat: the default scene shows sky, floor and spheres', () => {
    const colours = new Set<number>()
    for (let i = 0; i < full2.data.length; i += 4) {
      assert.equal(full2.data[i + 3], 255)
      colours.add(
        ((full2.data[i] as number) << 16) |
          ((full2.data[i + 1] as number) << 8) |
          (full2.data[i + 2] as number)
      )
    }
    assert.ok(colours.size > 500, `only ${colours.size} colours`)
  })

  it('changes with the seed and with the samples, not otherwise', () => {
    const other = renderImage({ ...scene, seed: 2 }, W, H, 2)
    assert.ok(!imagesEqual(other, full2))
    assert.ok(!imagesEqual(renderImage(scene, W, H, 1), full2))
    // One sample: pixel centres and light centres, so the seed has no effect (RAYS-6).
    assert.ok(imagesEqual(renderImage(scene, W, H, 1), renderImage({ ...scene, seed: 99 }, W, H, 1)))
  })

  it('renders the pinned testnet tile of the spec (work hash and pixel hash)', () => {
    const work = encodeWork({
      scene,
      width: 320,
      height: 240,
      tile: { x: 80, y: 60, w: 80, h: 60 },
      samples: 4
    })
    assert.equal(bytesToHex(sha256(work)), '342260993b137fb6ac81c35fada518142121c143d9ff232670f3d48b5b86c2eb')
    const img = decodePng(renderWork(work))
    assert.equal(
      bytesToHex(sha256(img.data)),
      'fe76a08fc446d7e0e27bc73f4b00a58c22100a145e3c999a3e899b4ecc78053b'
    )
  })

  it('renders a pinned reference image (guards against accidental changes to RAYS-5/6)', () => {
    const png = renderWork(
      encodeWork({ scene, width: 32, height: 24, tile: { x: 0, y: 0, w: 32, h: 24 }, samples: 2 })
    )
    assert.equal(bytesToHex(sha256(decodePng(png).data)), PINNED_32X24)
  })
})

/** SHA-256 of the RGBA pixels of the default scene at 32×24, 2 samples (protocol/spec/demo-article.md). */
const PINNED_32X24 = '3e3b99f6583250d7e60a05fef9c18efcf75d3c926e861a9b8f17f53ef6fb8447'
