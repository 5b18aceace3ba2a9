import { DemoCode, fail } from './errors.js'

/**
 * Scene description of the demo article `net.bitwrk/rays/0` (spec:
 * protocol/spec/demo-article.md, RAYS-4). A scene is JSON: a camera, up to
 * {@link SCENE_LIMITS}.maxObjects spheres and planes with one material each, up to
 * {@link SCENE_LIMITS}.maxLights point or spherical lights, an ambient term, a sky gradient,
 * the reflection depth and a noise seed. {@link parseScene} checks every field strictly
 * (unknown keys are errors) and fills defaults, so the parsed scene is complete: that complete
 * form is what a work item carries.
 */

/** A point, direction or RGB colour. */
export type Vec3 = readonly [number, number, number]

/** Matte surface with optional Phong highlight and partial reflection. */
export interface DiffuseMaterial {
  readonly type: 'diffuse'
  /** Albedo, each channel 0 … 1. */
  readonly color: Vec3
  /** Share of the colour that is a mirror reflection, 0 … 1 (default 0). */
  readonly reflect: number
  /** Phong highlight strength, 0 … 1 (default 0). */
  readonly specular: number
  /** Phong exponent, integer 1 … 1024 (default 32): an integer power is exact in any language. */
  readonly shininess: number
}

/** Perfect mirror tinted by `color`. */
export interface MirrorMaterial {
  readonly type: 'mirror'
  /** Tint of the reflection, each channel 0 … 1. */
  readonly color: Vec3
}

/** Diffuse checkerboard of two colours; squares of side `size` (plane-local or 3D cells on spheres). */
export interface CheckerMaterial {
  readonly type: 'checker'
  /** First colour (cells with even index sum). */
  readonly color: Vec3
  /** Second colour (cells with odd index sum). */
  readonly color2: Vec3
  /** Side of one square, > 0. */
  readonly size: number
  /** As for {@link DiffuseMaterial}. */
  readonly reflect: number
  /** As for {@link DiffuseMaterial}. */
  readonly specular: number
  /** As for {@link DiffuseMaterial}. */
  readonly shininess: number
}

/**
 * Diffuse mosaic whose colours come from the work's asset (RAYS-5.4, RAYS-10): squares of side
 * `size` as for the checker, each coloured by one RGB texel of the asset picked by a hash of the
 * square's cell, times `color`. A scene with a texture material needs a work item with an asset.
 */
export interface TextureMaterial {
  readonly type: 'texture'
  /** Tint multiplied with the texel, each channel 0 … 1 (default white). */
  readonly color: Vec3
  /** Side of one square, > 0. */
  readonly size: number
  /** As for {@link DiffuseMaterial}. */
  readonly reflect: number
  /** As for {@link DiffuseMaterial}. */
  readonly specular: number
  /** As for {@link DiffuseMaterial}. */
  readonly shininess: number
}

/** One of the materials. */
export type Material = DiffuseMaterial | MirrorMaterial | CheckerMaterial | TextureMaterial

/** A sphere. */
export interface Sphere {
  readonly type: 'sphere'
  readonly center: Vec3
  /** Radius, > 0. */
  readonly radius: number
  readonly material: Material
}

/** An infinite plane through `point` with (not necessarily unit, non-zero) `normal`. */
export interface Plane {
  readonly type: 'plane'
  readonly point: Vec3
  readonly normal: Vec3
  readonly material: Material
}

/** A scene object. */
export type SceneObject = Sphere | Plane

/** A light: a point light (`radius` 0) or a spherical area light that casts soft shadows. */
export interface Light {
  readonly position: Vec3
  /** Colour, each channel 0 … 1 (default white). */
  readonly color: Vec3
  /** Multiplier of `color`, 0 … 100 (default 1). No distance fall-off (Whitted). */
  readonly intensity: number
  /** Radius of the spherical light, 0 … 1e6 (default 0 = point light, hard shadows). */
  readonly radius: number
}

/** A pin-hole camera. */
export interface Camera {
  readonly position: Vec3
  /** The point the camera looks at; differs from `position`. */
  readonly lookAt: Vec3
  /** Up direction (default [0, 1, 0]); not parallel to the viewing direction. */
  readonly up: Vec3
  /** Vertical field of view in degrees, 1 … 179 (default 50). */
  readonly fov: number
}

/** Background: a vertical gradient by the ray direction's y component. */
export interface Sky {
  /** Colour of rays with y ≤ 0. */
  readonly horizon: Vec3
  /** Colour of rays straight up. */
  readonly zenith: Vec3
}

/** A complete, validated scene. */
export interface Scene {
  readonly camera: Camera
  readonly objects: readonly SceneObject[]
  readonly lights: readonly Light[]
  /** Ambient light, each channel 0 … 1 (default 0.1 each). */
  readonly ambient: Vec3
  readonly sky: Sky
  /** Maximum number of reflection bounces, 0 … 8 (default 4). */
  readonly maxDepth: number
  /** Seed of the per-pixel noise (RAYS-6), integer 0 … 2^32 − 1 (default 0). */
  readonly seed: number
}

/** Limits of RAYS-4. Each bounds the cost of one ray: objects × (lights + 1) × (depth + 1) tests. */
export const SCENE_LIMITS = {
  /** Spheres plus planes; intersection is a linear scan, so cost per ray grows linearly. */
  maxObjects: 64,
  /** Each light costs one shadow ray (a scan of all objects) per hit. */
  maxLights: 8,
  /** Reflection bounces; 8 is far beyond what a mirror-pair scene visibly needs. */
  maxDepth: 8,
  /** Largest magnitude of a coordinate, radius or size: keeps squares far from float overflow. */
  maxCoordinate: 1e6,
  /** Largest light intensity. */
  maxIntensity: 100,
  /** Largest Phong exponent (integer, computed by repeated squaring). */
  maxShininess: 1024
} as const

const DEFAULT_SHININESS = 32
const DEFAULT_AMBIENT: Vec3 = [0.1, 0.1, 0.1]
const DEFAULT_SKY: Sky = { horizon: [0.85, 0.9, 1], zenith: [0.3, 0.5, 0.9] }
const DEFAULT_DEPTH = 4
const DEFAULT_FOV = 50

type Obj = Record<string, unknown>

function bad(path: string, why: string): never {
  return fail(DemoCode.badScene, `scene ${path}: ${why}`, { path })
}

function object(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(path, 'must be an object')
  for (const k of Object.keys(v)) if (!allowed.includes(k)) bad(`${path}.${k}`, 'unknown field')
  return v as Obj
}

function num(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return bad(path, 'must be a finite number')
  if (v < min || v > max) return bad(path, `must be in ${min} … ${max}`)
  // -0 would encode as 0 and break the canonical round trip (RAYS-2); it means the same.
  return v === 0 ? 0 : v
}

function int(v: unknown, path: string, min: number, max: number): number {
  const n = num(v, path, min, max)
  if (!Number.isInteger(n)) bad(path, 'must be an integer')
  return n
}

function vec(v: unknown, path: string, min: number, max: number): Vec3 {
  if (!Array.isArray(v) || v.length !== 3) return bad(path, 'must be an array of 3 numbers')
  return [
    num(v[0], `${path}[0]`, min, max),
    num(v[1], `${path}[1]`, min, max),
    num(v[2], `${path}[2]`, min, max)
  ]
}

const C = SCENE_LIMITS.maxCoordinate
const point = (v: unknown, path: string): Vec3 => vec(v, path, -C, C)
const color = (v: unknown, path: string): Vec3 => vec(v, path, 0, 1)
function opt<T>(o: Obj, key: string, dflt: T, parse: (v: unknown, path: string) => T, path: string): T {
  return o[key] === undefined ? dflt : parse(o[key], `${path}.${key}`)
}

function parseMaterial(v: unknown, path: string): Material {
  const type = (v as Obj | null)?.['type']
  if (type === 'mirror') {
    const o = object(v, path, ['type', 'color'])
    return { type, color: opt(o, 'color', [1, 1, 1] as Vec3, color, path) }
  }
  const unit = (x: unknown, p: string): number => num(x, p, 0, 1)
  const shin = (x: unknown, p: string): number => int(x, p, 1, SCENE_LIMITS.maxShininess)
  if (type === 'diffuse') {
    const o = object(v, path, ['type', 'color', 'reflect', 'specular', 'shininess'])
    return {
      type,
      color: color(o['color'], `${path}.color`),
      reflect: opt(o, 'reflect', 0, unit, path),
      specular: opt(o, 'specular', 0, unit, path),
      shininess: opt(o, 'shininess', DEFAULT_SHININESS, shin, path)
    }
  }
  if (type === 'checker') {
    const o = object(v, path, ['type', 'color', 'color2', 'size', 'reflect', 'specular', 'shininess'])
    const size = num(o['size'], `${path}.size`, 0, C)
    if (size === 0) bad(`${path}.size`, 'must be > 0')
    return {
      type,
      color: color(o['color'], `${path}.color`),
      color2: color(o['color2'], `${path}.color2`),
      size,
      reflect: opt(o, 'reflect', 0, unit, path),
      specular: opt(o, 'specular', 0, unit, path),
      shininess: opt(o, 'shininess', DEFAULT_SHININESS, shin, path)
    }
  }
  if (type === 'texture') {
    const o = object(v, path, ['type', 'color', 'size', 'reflect', 'specular', 'shininess'])
    const size = num(o['size'], `${path}.size`, 0, C)
    if (size === 0) bad(`${path}.size`, 'must be > 0')
    return {
      type,
      color: opt(o, 'color', [1, 1, 1] as Vec3, color, path),
      size,
      reflect: opt(o, 'reflect', 0, unit, path),
      specular: opt(o, 'specular', 0, unit, path),
      shininess: opt(o, 'shininess', DEFAULT_SHININESS, shin, path)
    }
  }
  object(v, path, ['type'])
  return bad(`${path}.type`, "must be 'diffuse', 'mirror', 'checker' or 'texture'")
}

function parseObject(v: unknown, path: string): SceneObject {
  const type = (v as Obj | null)?.['type']
  if (type === 'sphere') {
    const o = object(v, path, ['type', 'center', 'radius', 'material'])
    const radius = num(o['radius'], `${path}.radius`, 0, C)
    if (radius === 0) bad(`${path}.radius`, 'must be > 0')
    return {
      type,
      center: point(o['center'], `${path}.center`),
      radius,
      material: parseMaterial(o['material'], `${path}.material`)
    }
  }
  if (type === 'plane') {
    const o = object(v, path, ['type', 'point', 'normal', 'material'])
    const normal = vec(o['normal'], `${path}.normal`, -1, 1)
    if (normal[0] === 0 && normal[1] === 0 && normal[2] === 0) bad(`${path}.normal`, 'must not be zero')
    return {
      type,
      point: point(o['point'], `${path}.point`),
      normal,
      material: parseMaterial(o['material'], `${path}.material`)
    }
  }
  object(v, path, ['type'])
  return bad(`${path}.type`, "must be 'sphere' or 'plane'")
}

function parseLight(v: unknown, path: string): Light {
  const o = object(v, path, ['position', 'color', 'intensity', 'radius'])
  return {
    position: point(o['position'], `${path}.position`),
    color: opt(o, 'color', [1, 1, 1] as Vec3, color, path),
    intensity: opt(o, 'intensity', 1, (x, p) => num(x, p, 0, SCENE_LIMITS.maxIntensity), path),
    radius: opt(o, 'radius', 0, (x, p) => num(x, p, 0, C), path)
  }
}

function parseCamera(v: unknown, path: string): Camera {
  const o = object(v, path, ['position', 'lookAt', 'up', 'fov'])
  const position = point(o['position'], `${path}.position`)
  const lookAt = point(o['lookAt'], `${path}.lookAt`)
  const up = opt(o, 'up', [0, 1, 0] as Vec3, (x, p) => vec(x, p, -1, 1), path)
  const fov = opt(o, 'fov', DEFAULT_FOV, (x, p) => num(x, p, 1, 179), path)
  const f: Vec3 = [lookAt[0] - position[0], lookAt[1] - position[1], lookAt[2] - position[2]]
  if (f[0] === 0 && f[1] === 0 && f[2] === 0) bad(`${path}.lookAt`, 'must differ from position')
  const cx = f[1] * up[2] - f[2] * up[1]
  const cy = f[2] * up[0] - f[0] * up[2]
  const cz = f[0] * up[1] - f[1] * up[0]
  // Relative test: |f × up| ≤ 1e-9 |f| |up| means up is (nearly) parallel, so no camera basis exists.
  const lf = f[0] * f[0] + f[1] * f[1] + f[2] * f[2]
  const lu = up[0] * up[0] + up[1] * up[1] + up[2] * up[2]
  if (cx * cx + cy * cy + cz * cz <= 1e-18 * lf * lu) bad(`${path}.up`, 'must not be parallel to the view')
  return { position, lookAt, up, fov }
}

function list<T>(v: unknown, path: string, max: number, parse: (x: unknown, p: string) => T): T[] {
  if (!Array.isArray(v)) return bad(path, 'must be an array')
  if (v.length > max) fail(DemoCode.sceneTooLarge, `scene ${path}: more than ${max} entries`, { path, max })
  return v.map((x, i) => parse(x, `${path}[${i}]`))
}

/**
 * Validates a scene (parsed JSON) and returns it complete, with defaults filled in.
 * @throws BitwrkError `DEMO_BAD_SCENE` (with `details.path`) or `DEMO_SCENE_TOO_LARGE`.
 */
export function parseScene(value: unknown): Scene {
  const o = object(value, 'scene', ['camera', 'objects', 'lights', 'ambient', 'sky', 'maxDepth', 'seed'])
  const camera = parseCamera(o['camera'], 'scene.camera')
  const objects = list(o['objects'], 'scene.objects', SCENE_LIMITS.maxObjects, parseObject)
  const lights = list(o['lights'], 'scene.lights', SCENE_LIMITS.maxLights, parseLight)
  const ambient = opt(o, 'ambient', DEFAULT_AMBIENT, color, 'scene')
  const sky = opt(
    o,
    'sky',
    DEFAULT_SKY,
    (x, p) => {
      const s = object(x, p, ['horizon', 'zenith'])
      return { horizon: color(s['horizon'], `${p}.horizon`), zenith: color(s['zenith'], `${p}.zenith`) }
    },
    'scene'
  )
  if (
    typeof o['maxDepth'] === 'number' &&
    Number.isInteger(o['maxDepth']) &&
    o['maxDepth'] > SCENE_LIMITS.maxDepth
  )
    fail(DemoCode.sceneTooLarge, `scene.maxDepth: more than ${SCENE_LIMITS.maxDepth}`, {
      path: 'scene.maxDepth',
      max: SCENE_LIMITS.maxDepth
    })
  const maxDepth = opt(o, 'maxDepth', DEFAULT_DEPTH, (x, p) => int(x, p, 0, SCENE_LIMITS.maxDepth), 'scene')
  const seed = opt(o, 'seed', 0, (x, p) => int(x, p, 0, 0xffffffff), 'scene')
  return { camera, objects, lights, ambient, sky, maxDepth, seed }
}

const gray = (v: number): Vec3 => [v, v, v]

/**
 * The built-in "net.bitwrk/rays/0 demo scene": a mirror sphere between a red glossy and a blue
 * sphere on a checker floor, a small gold sphere, a soft key light and a hard fill light. Given
 * in the short form (defaults omitted); {@link defaultScene} returns it parsed.
 */
export const DEFAULT_SCENE_JSON = {
  camera: { position: [0, 1.6, -6], lookAt: [0, 0.9, 0], fov: 45 },
  objects: [
    {
      type: 'plane',
      point: [0, 0, 0],
      normal: [0, 1, 0],
      material: { type: 'checker', color: gray(0.9), color2: gray(0.15), size: 1, reflect: 0.15 }
    },
    {
      type: 'sphere',
      center: [0, 1, 0.5],
      radius: 1,
      material: { type: 'mirror', color: [0.9, 0.92, 0.95] }
    },
    {
      type: 'sphere',
      center: [-2.1, 0.7, -0.3],
      radius: 0.7,
      material: { type: 'diffuse', color: [0.85, 0.15, 0.1], specular: 0.6, shininess: 64 }
    },
    {
      type: 'sphere',
      center: [2, 0.8, 0.2],
      radius: 0.8,
      material: { type: 'diffuse', color: [0.1, 0.3, 0.85], reflect: 0.25, specular: 0.4 }
    },
    {
      type: 'sphere',
      center: [0.9, 0.35, -1.4],
      radius: 0.35,
      material: { type: 'diffuse', color: [0.95, 0.7, 0.15], reflect: 0.1, specular: 0.8, shininess: 128 }
    }
  ],
  lights: [
    { position: [5, 7, 1], color: [1, 0.95, 0.85], intensity: 0.9, radius: 0.8 },
    { position: [-5, 4, -4], color: [0.6, 0.7, 1], intensity: 0.3 }
  ],
  ambient: gray(0.12),
  sky: { horizon: [0.9, 0.92, 1], zenith: [0.25, 0.45, 0.85] },
  maxDepth: 4,
  seed: 1
} as const

/** Whether any object of `scene` has a `texture` material, i.e. the work needs an asset (RAYS-10). */
export function sceneUsesAsset(scene: Scene): boolean {
  return scene.objects.some((o) => o.material.type === 'texture')
}

/**
 * The demo scene with an asset (RAYS-10; `npm run testnet -- --asset-mib N`, the `swarm`
 * bench): {@link DEFAULT_SCENE_JSON} with its floor a mosaic of the asset's texels (squares of
 * 0.25), so that every visible square of the floor shows bytes of the asset.
 */
export const ASSET_SCENE_JSON = {
  ...DEFAULT_SCENE_JSON,
  objects: [
    {
      type: 'plane',
      point: [0, 0, 0],
      normal: [0, 1, 0],
      material: { type: 'texture', size: 0.25, reflect: 0.15 }
    },
    ...DEFAULT_SCENE_JSON.objects.slice(1)
  ]
} as const

/** The default demo scene, complete (parsed from {@link DEFAULT_SCENE_JSON}). */
export function defaultScene(): Scene {
  return parseScene(JSON.parse(JSON.stringify(DEFAULT_SCENE_JSON)))
}
