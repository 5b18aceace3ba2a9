import assert from 'node:assert/strict'
import {
  DEFAULT_SCENE_JSON,
  DemoCode,
  defaultScene,
  parseScene,
  SCENE_LIMITS
} from '../../node/demo/index.js'
import { throwsCode } from '../support/errors.js'
import { clone } from './helpers.js'

const MINIMAL = {
  camera: { position: [0, 1, -3], lookAt: [0, 1, 0] },
  objects: [
    { type: 'sphere', center: [0, 1, 0], radius: 1, material: { type: 'diffuse', color: [1, 0, 0] } }
  ],
  lights: [{ position: [0, 5, -5] }]
}

type Mutate = (s: Record<string, unknown> & typeof MINIMAL) => unknown

/** Hostile scenes: [label, mutation of MINIMAL, code]. */
const HOSTILE: [string, Mutate, string][] = [
  ['not an object', () => [1, 2], DemoCode.badScene],
  ['null', () => null, DemoCode.badScene],
  ['unknown top-level key', (s) => ({ ...s, extra: 1 }), DemoCode.badScene],
  ['missing camera', (s) => ({ ...s, camera: undefined }), DemoCode.badScene],
  [
    'lookAt equals position',
    (s) => ({ ...s, camera: { ...s.camera, lookAt: [0, 1, -3] } }),
    DemoCode.badScene
  ],
  ['up parallel to view', (s) => ({ ...s, camera: { ...s.camera, up: [0, 0, 1] } }), DemoCode.badScene],
  ['fov 0', (s) => ({ ...s, camera: { ...s.camera, fov: 0 } }), DemoCode.badScene],
  ['fov 180', (s) => ({ ...s, camera: { ...s.camera, fov: 180 } }), DemoCode.badScene],
  [
    'coordinate is a string',
    (s) => ({ ...s, camera: { ...s.camera, position: ['0', 1, 2] } }),
    DemoCode.badScene
  ],
  ['vector of 2', (s) => ({ ...s, camera: { ...s.camera, position: [0, 1] } }), DemoCode.badScene],
  ['NaN', (s) => ({ ...s, camera: { ...s.camera, position: [Number.NaN, 1, 2] } }), DemoCode.badScene],
  [
    'Infinity (JSON 1e400)',
    (s) => ({ ...s, camera: { ...s.camera, position: [Infinity, 1, 2] } }),
    DemoCode.badScene
  ],
  [
    'coordinate beyond 1e6',
    (s) => ({ ...s, camera: { ...s.camera, position: [2e6, 1, 2] } }),
    DemoCode.badScene
  ],
  ['objects not an array', (s) => ({ ...s, objects: {} }), DemoCode.badScene],
  ['unknown object type', (s) => ({ ...s, objects: [{ type: 'cube' }] }), DemoCode.badScene],
  ['radius 0', (s) => ({ ...s, objects: [{ ...s.objects[0], radius: 0 }] }), DemoCode.badScene],
  ['negative radius', (s) => ({ ...s, objects: [{ ...s.objects[0], radius: -1 }] }), DemoCode.badScene],
  ['unknown object field', (s) => ({ ...s, objects: [{ ...s.objects[0], mass: 1 }] }), DemoCode.badScene],
  [
    'zero plane normal',
    (s) => ({
      ...s,
      objects: [{ type: 'plane', point: [0, 0, 0], normal: [0, 0, 0], material: { type: 'mirror' } }]
    }),
    DemoCode.badScene
  ],
  [
    'unknown material',
    (s) => ({ ...s, objects: [{ ...s.objects[0], material: { type: 'glass' } }] }),
    DemoCode.badScene
  ],
  [
    'colour above 1',
    (s) => ({ ...s, objects: [{ ...s.objects[0], material: { type: 'diffuse', color: [2, 0, 0] } }] }),
    DemoCode.badScene
  ],
  [
    'fractional shininess',
    (s) => ({
      ...s,
      objects: [{ ...s.objects[0], material: { type: 'diffuse', color: [1, 0, 0], shininess: 2.5 } }]
    }),
    DemoCode.badScene
  ],
  [
    'checker size 0',
    (s) => ({
      ...s,
      objects: [
        { ...s.objects[0], material: { type: 'checker', color: [1, 1, 1], color2: [0, 0, 0], size: 0 } }
      ]
    }),
    DemoCode.badScene
  ],
  [
    'light intensity above 100',
    (s) => ({ ...s, lights: [{ position: [0, 1, 0], intensity: 101 }] }),
    DemoCode.badScene
  ],
  ['negative seed', (s) => ({ ...s, seed: -1 }), DemoCode.badScene],
  ['seed above 2^32-1', (s) => ({ ...s, seed: 2 ** 32 }), DemoCode.badScene],
  ['fractional depth', (s) => ({ ...s, maxDepth: 1.5 }), DemoCode.badScene],
  ['depth above 8', (s) => ({ ...s, maxDepth: SCENE_LIMITS.maxDepth + 1 }), DemoCode.sceneTooLarge],
  [
    'too many objects',
    (s) => ({ ...s, objects: Array(SCENE_LIMITS.maxObjects + 1).fill(s.objects[0]) }),
    DemoCode.sceneTooLarge
  ],
  [
    'too many lights',
    (s) => ({ ...s, lights: Array(SCENE_LIMITS.maxLights + 1).fill(s.lights[0]) }),
    DemoCode.sceneTooLarge
  ]
]

describe('demo/scene', () => {
  it('parses the default scene and fills every default', () => {
    const s = defaultScene()
    assert.equal(s.objects.length, DEFAULT_SCENE_JSON.objects.length)
    assert.equal(s.seed, 1)
    const plane = s.objects[0]
    assert.equal(plane?.type, 'plane')
    assert.equal(plane?.material.type, 'checker')
    assert.deepEqual(s.lights[1], { position: [-5, 4, -4], color: [0.6, 0.7, 1], intensity: 0.3, radius: 0 })
  })

  it('fills defaults of a minimal scene', () => {
    const s = parseScene(clone(MINIMAL))
    assert.deepEqual(s.camera, { position: [0, 1, -3], lookAt: [0, 1, 0], up: [0, 1, 0], fov: 50 })
    assert.deepEqual(s.lights[0], { position: [0, 5, -5], color: [1, 1, 1], intensity: 1, radius: 0 })
    assert.deepEqual(s.objects[0]?.material, {
      type: 'diffuse',
      color: [1, 0, 0],
      reflect: 0,
      specular: 0,
      shininess: 32
    })
    assert.equal(s.maxDepth, 4)
    assert.equal(s.seed, 0)
  })

  it('parses its own output to the same scene (idempotent)', () => {
    const s = defaultScene()
    assert.deepEqual(parseScene(clone(s)), s)
  })

  it('turns -0 into 0 so the canonical encoding round-trips', () => {
    const s = clone(MINIMAL)
    s.camera.position = [-0, 1, -3]
    assert.ok(Object.is(parseScene(s).camera.position[0], 0))
  })

  it('accepts scenes at the limits', () => {
    const s = clone(MINIMAL) as Record<string, unknown> & typeof MINIMAL
    const full = {
      ...s,
      objects: Array(SCENE_LIMITS.maxObjects).fill(s.objects[0]),
      lights: Array(SCENE_LIMITS.maxLights).fill(s.lights[0]),
      maxDepth: SCENE_LIMITS.maxDepth
    }
    assert.equal(parseScene(full).objects.length, SCENE_LIMITS.maxObjects)
  })

  for (const [label, mutate, code] of HOSTILE)
    it(`rejects a hostile scene: ${label} (${code})`, () => {
      throwsCode(
        () => parseScene(mutate(clone(MINIMAL) as Record<string, unknown> & typeof MINIMAL)),
        code,
        label
      )
    })

  it('names the bad field in details.path', () => {
    const s = clone(MINIMAL)
    ;(s.objects[0] as Record<string, unknown>)['radius'] = 'big'
    assert.throws(
      () => parseScene(s),
      (err: unknown) => (err as { details: { path: string } }).details.path === 'scene.objects[0].radius'
    )
  })
})
