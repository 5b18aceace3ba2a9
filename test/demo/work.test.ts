import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import {
  canonicalJson,
  DemoCode,
  decodeWork,
  defaultScene,
  encodeWork,
  RAYS_ARTICLE,
  validateWork,
  WORK_LIMITS,
  WORK_MAX_BYTES
} from '../../node/demo/index.js'
import { validateArticle } from '../../protocol/article/index.js'
import { throwsCode } from '../support/errors.js'
import { clone } from './helpers.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

const SCENE = {
  camera: { position: [0, 1, -3], lookAt: [0, 1, 0] },
  objects: [
    { type: 'sphere', center: [0, 1, 0], radius: 1, material: { type: 'diffuse', color: [1, 0, 0] } }
  ],
  lights: [{ position: [0, 5, -5] }]
}

/** Test vector of protocol/spec/demo-article.md (RAYS-2). */
const VECTOR_TEXT =
  '{"article":"net.bitwrk/rays/0","height":2,"samples":1,"scene":{"ambient":[0.1,0.1,0.1],"camera":{"fov":50,"lookAt":[0,1,0],"position":[0,1,-3],"up":[0,1,0]},"lights":[{"color":[1,1,1],"intensity":1,"position":[0,5,-5],"radius":0}],"maxDepth":4,"objects":[{"center":[0,1,0],"material":{"color":[1,0,0],"reflect":0,"shininess":32,"specular":0,"type":"diffuse"},"radius":1,"type":"sphere"}],"seed":0,"sky":{"horizon":[0.85,0.9,1],"zenith":[0.3,0.5,0.9]}},"tile":{"h":2,"w":2,"x":1,"y":0},"width":4}'
const VECTOR_SHA256 = 'b8b42c11136bb62718f4b900db9ad232bbc2306848872c84eac0e67b424ed5c7'

function goodValue(): Record<string, unknown> {
  return JSON.parse(
    dec(encodeWork({ scene: SCENE, width: 4, height: 2, tile: { x: 1, y: 0, w: 2, h: 2 }, samples: 1 }))
  )
}

/** The same value with every object's keys in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys)
  if (typeof v !== 'object' || v === null) return v
  return Object.fromEntries(
    Object.entries(v)
      .reverse()
      .map(([k, x]) => [k, reversedKeys(x)])
  )
}

/** Hostile work bytes: [label, bytes, code]. */
function hostile(): [string, Uint8Array, string][] {
  const good = goodValue()
  const text = (f: (v: Record<string, unknown>) => unknown): Uint8Array => {
    const v = clone(good)
    return enc(canonicalJson(f(v) ?? v))
  }
  return [
    ['empty', new Uint8Array(0), DemoCode.badWork],
    ['too large', new Uint8Array(WORK_MAX_BYTES + 1).fill(0x20), DemoCode.workTooLarge],
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xff, 0x7d]), DemoCode.badWork],
    ['UTF-8 BOM', new Uint8Array([0xef, 0xbb, 0xbf, ...enc(VECTOR_TEXT)]), DemoCode.badWork],
    ['not JSON', enc('{"article":'), DemoCode.badWork],
    ['JSON array', enc('[]'), DemoCode.badWork],
    ['JSON null', enc('null'), DemoCode.badWork],
    ['JSON number', enc('42'), DemoCode.badWork],
    ['deeply nested', enc('['.repeat(30000) + ']'.repeat(30000)), DemoCode.badWork],
    ['wrong article', text((v) => ({ ...v, article: 'net.bitwrk/gorays/0' })), DemoCode.badWork],
    ['missing tile', text((v) => ({ ...v, tile: undefined })), DemoCode.badWork],
    ['extra field', text((v) => ({ ...v, priority: 1 })), DemoCode.badWork],
    [
      '__proto__ field',
      enc(VECTOR_TEXT.replace('{"article"', '{"__proto__":{"x":1},"article"')),
      DemoCode.badWork
    ],
    [
      '__proto__ in the scene',
      enc(VECTOR_TEXT.replace('"scene":{', '"scene":{"__proto__":{"seed":3},')),
      DemoCode.badScene
    ],
    ['tile extra field', text((v) => ({ ...v, tile: { x: 0, y: 0, w: 1, h: 1, z: 0 } })), DemoCode.badWork],
    ['tile not an object', text((v) => ({ ...v, tile: [0, 0, 1, 1] })), DemoCode.badWork],
    ['width 0', text((v) => ({ ...v, width: 0 })), DemoCode.badImageSize],
    ['width 4097', text((v) => ({ ...v, width: 4097 })), DemoCode.badImageSize],
    ['height fractional', text((v) => ({ ...v, height: 2.5 })), DemoCode.badImageSize],
    ['height as string', text((v) => ({ ...v, height: '2' })), DemoCode.badImageSize],
    ['tile outside', text((v) => ({ ...v, tile: { x: 3, y: 0, w: 2, h: 2 } })), DemoCode.badTile],
    ['tile empty', text((v) => ({ ...v, tile: { x: 0, y: 0, w: 0, h: 2 } })), DemoCode.badTile],
    ['tile negative', text((v) => ({ ...v, tile: { x: -1, y: 0, w: 1, h: 1 } })), DemoCode.badTile],
    ['tile fractional', text((v) => ({ ...v, tile: { x: 0.5, y: 0, w: 1, h: 1 } })), DemoCode.badTile],
    ['samples 0', text((v) => ({ ...v, samples: 0 })), DemoCode.badSamples],
    ['samples 65', text((v) => ({ ...v, samples: WORK_LIMITS.maxSamples + 1 })), DemoCode.badSamples],
    [
      'too many primary rays',
      text((v) => ({ ...v, width: 4096, height: 4096, tile: { x: 0, y: 0, w: 4096, h: 4096 }, samples: 2 })),
      DemoCode.workTooCostly
    ],
    ['bad scene', text((v) => ({ ...v, scene: { ...(v['scene'] as object), seed: -1 } })), DemoCode.badScene],
    ['whitespace', enc(` ${VECTOR_TEXT}`), DemoCode.workNotCanonical],
    ['pretty-printed', enc(JSON.stringify(JSON.parse(VECTOR_TEXT), null, 1)), DemoCode.workNotCanonical],
    ['unsorted keys', enc(JSON.stringify(reversedKeys(JSON.parse(VECTOR_TEXT)))), DemoCode.workNotCanonical],
    [
      'number written 1.0',
      enc(VECTOR_TEXT.replace('"samples":1', '"samples":1.0')),
      DemoCode.workNotCanonical
    ],
    [
      'number written 1e0',
      enc(VECTOR_TEXT.replace('"samples":1', '"samples":1e0')),
      DemoCode.workNotCanonical
    ],
    [
      'minus zero',
      enc(VECTOR_TEXT.replace('"position":[0,1,-3]', '"position":[-0,1,-3]')),
      DemoCode.workNotCanonical
    ],
    ['escaped key', enc(VECTOR_TEXT.replace('"width"', '"\\u0077idth"')), DemoCode.workNotCanonical],
    [
      'duplicate key',
      enc(VECTOR_TEXT.replace('"samples":1', '"samples":2,"samples":1')),
      DemoCode.workNotCanonical
    ],
    [
      'short-form scene (defaults omitted)',
      enc(canonicalJson({ ...good, scene: SCENE })),
      DemoCode.workNotCanonical
    ]
  ]
}

describe('demo/work', () => {
  it('uses an article name valid under ART-1 … ART-4', () => {
    assert.deepEqual(validateArticle(RAYS_ARTICLE), { result: 'accept' })
  })

  it('encodes the spec test vector canonically', () => {
    const bytes = encodeWork({
      scene: SCENE,
      width: 4,
      height: 2,
      tile: { x: 1, y: 0, w: 2, h: 2 },
      samples: 1
    })
    assert.equal(dec(bytes), VECTOR_TEXT)
    assert.equal(bytesToHex(sha256(bytes)), VECTOR_SHA256)
  })

  it('decodes what it encodes, with the scene complete', () => {
    const scene = defaultScene()
    const work = { scene, width: 320, height: 240, tile: { x: 80, y: 60, w: 80, h: 60 }, samples: 4 }
    const bytes = encodeWork(work)
    assert.deepEqual(decodeWork(bytes), work)
    assert.deepEqual(encodeWork(decodeWork(bytes)), bytes)
  })

  it('round-trips random valid work items (property)', () => {
    const tile = fc
      .record({ width: fc.integer({ min: 1, max: 4096 }), height: fc.integer({ min: 1, max: 4096 }) })
      .chain(({ width, height }) =>
        fc.record({
          width: fc.constant(width),
          height: fc.constant(height),
          x: fc.integer({ min: 0, max: width - 1 }),
          y: fc.integer({ min: 0, max: height - 1 })
        })
      )
      .chain((r) =>
        fc.record({
          r: fc.constant(r),
          w: fc.integer({ min: 1, max: Math.min(r.width - r.x, 64) }),
          h: fc.integer({ min: 1, max: Math.min(r.height - r.y, 64) })
        })
      )
    const coord = fc.double({ min: -1e6, max: 1e6, noNaN: true })
    fc.assert(
      fc.property(
        tile,
        fc.integer({ min: 1, max: 64 }),
        coord,
        coord,
        fc.nat(0xffffffff),
        ({ r, w, h }, samples, a, b, seed) => {
          const scene = clone(SCENE) as Record<string, unknown> & typeof SCENE
          scene.objects[0]!.center = [a, b, 0]
          const work = {
            scene: { ...scene, seed },
            width: r.width,
            height: r.height,
            tile: { x: r.x, y: r.y, w, h },
            samples
          }
          const bytes = encodeWork(work)
          const back = decodeWork(bytes)
          assert.deepEqual(encodeWork(back), bytes)
          assert.deepEqual(back.tile, work.tile)
        }
      ),
      { numRuns: 200 }
    )
  })

  it('admits exactly WORK_LIMITS.maxPrimaryRays primary rays', () => {
    const at = { scene: SCENE, width: 4096, height: 4096, tile: { x: 0, y: 0, w: 2048, h: 2048 }, samples: 1 }
    assert.equal(at.tile.w * at.tile.h, WORK_LIMITS.maxPrimaryRays)
    assert.deepEqual(decodeWork(encodeWork(at)).tile, at.tile)
    throwsCode(() => encodeWork({ ...at, tile: { x: 0, y: 0, w: 2048, h: 2049 } }), DemoCode.workTooCostly)
    throwsCode(() => encodeWork({ ...at, samples: 2 }), DemoCode.workTooCostly)
  })

  it('refuses to encode invalid work with the decoder codes', () => {
    throwsCode(
      () => encodeWork({ scene: SCENE, width: 4, height: 2, tile: { x: 4, y: 0, w: 1, h: 1 }, samples: 1 }),
      DemoCode.badTile
    )
  })

  for (const [label, bytes, code] of hostile())
    it(`rejects hostile work: ${label} (${code})`, () => {
      throwsCode(() => decodeWork(bytes), code, label)
      assert.deepEqual(validateWork(bytes), { result: 'reject', code })
    })

  it('rejects bit flips of a valid work item with a DEMO code, never another error (property)', () => {
    const good = enc(VECTOR_TEXT)
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = good.slice()
        b[i] = (b[i] as number) ^ x
        const r = validateWork(b)
        // A flip may still yield valid work (e.g. a digit changed): then it is canonical by construction.
        if (r.result === 'accept') assert.equal(canonicalJson(JSON.parse(dec(b))), dec(b))
      }),
      { numRuns: 300 }
    )
  })
})
