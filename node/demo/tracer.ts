import type { Material, Scene, Vec3 } from './scene.js'
import type { Tile, Work } from './work.js'

/**
 * A deterministic Whitted-style ray tracer for the article `net.bitwrk/rays/0` (spec:
 * protocol/spec/demo-article.md, RAYS-5 and RAYS-6): direct light from point and spherical
 * lights with shadow rays, Phong highlights, mirror reflection up to `scene.maxDepth`,
 * stratified anti-aliasing, gamma 2, clamping, RGBA8 output.
 *
 * Determinism: a pixel's value depends only on (scene, image size, samples, pixel position).
 * Its noise comes from a counter-based generator seeded by the scene seed and the pixel's
 * image coordinates (RAYS-6), never from `Math.random` or from which tile it is in, and every
 * loop runs in a fixed order. Apart from `Math.tan` (once per work item, for the field of
 * view) the tracer uses only +, −, ×, ÷, `Math.sqrt`, `Math.floor` and comparisons, which
 * IEEE 754 makes exact in every process; `Math.tan` is deterministic within one Node binary
 * (V8 ships its own fdlibm port), which is all a buyer comparing tiles with its own reference
 * render on the same build needs.
 */

/** An RGBA image, 8 bits per channel, rows top to bottom, 4 bytes per pixel. */
export interface RgbaImage {
  readonly width: number
  readonly height: number
  /** `width * height * 4` bytes. */
  readonly data: Uint8Array
}

/** Self-intersection offset of secondary rays, in scene units (RAYS-5). */
const EPS = 1e-4
/** Weyl increment of the noise counter: 2^32 / golden ratio (RAYS-6). */
const GOLDEN = 0x9e3779b9
/** Light-sample rejection tries before falling back to the centre (RAYS-6): P(fallback) < 0.48^8. */
const LIGHT_TRIES = 8

/** lowbias32 (C. Wellons' integer hash): the mixing function of RAYS-6. */
export function mix32(x: number): number {
  let h = x >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  h = Math.imul(h, 0x846ca68b)
  h ^= h >>> 16
  return h >>> 0
}

/** Seed of pixel (px, py) in image coordinates (RAYS-6): independent of the tiling. */
export function pixelSeed(sceneSeed: number, px: number, py: number): number {
  return mix32(mix32(mix32(sceneSeed) ^ px) ^ py)
}

/** The k-th noise value in [0, 1) of a pixel with seed `seed` (RAYS-6): mix32(seed + k·0x9E3779B9) / 2^32. */
export function noise(seed: number, k: number): number {
  return mix32((seed + Math.imul(k, GOLDEN)) >>> 0) / 4294967296
}

interface PreparedMaterial {
  readonly kind: 'diffuse' | 'mirror' | 'checker' | 'texture'
  readonly color: Vec3
  readonly color2: Vec3
  readonly invSize: number
  readonly reflect: number
  readonly specular: number
  readonly shininess: number
}

interface PreparedObject {
  readonly sphere: boolean
  /** Sphere centre or plane point. */
  readonly px: number
  readonly py: number
  readonly pz: number
  /** Sphere radius squared. */
  readonly r2: number
  /** Plane unit normal and in-plane unit axes for the checker. */
  readonly nx: number
  readonly ny: number
  readonly nz: number
  readonly ux: number
  readonly uy: number
  readonly uz: number
  readonly vx: number
  readonly vy: number
  readonly vz: number
  readonly mat: PreparedMaterial
}

function prepareMaterial(m: Material): PreparedMaterial {
  if (m.type === 'mirror')
    return {
      kind: 'mirror',
      color: m.color,
      color2: m.color,
      invSize: 0,
      reflect: 1,
      specular: 0,
      shininess: 1
    }
  return {
    kind: m.type,
    color: m.color,
    color2: m.type === 'checker' ? m.color2 : m.color,
    invSize: m.type === 'checker' || m.type === 'texture' ? 1 / m.size : 0,
    reflect: m.reflect,
    specular: m.specular,
    shininess: m.shininess
  }
}

/** x^n for an integer n ≥ 1 by repeated squaring: exact operation order, no `Math.pow`. */
function powInt(x: number, n: number): number {
  let result = 1
  let base = x
  let e = n
  while (e > 0) {
    if (e & 1) result *= base
    base *= base
    e >>>= 1
  }
  return result
}

/** Mutable colour accumulator; one per recursion level keeps the hot path allocation-free. */
interface Rgb {
  r: number
  g: number
  b: number
}

/** A scene prepared for tracing: camera basis, unit normals, checker axes. */
class Tracer {
  private readonly objects: PreparedObject[]
  private readonly scene: Scene
  private readonly jitter: boolean
  // Camera: origin, forward (unit), right and up scaled by tan(fov/2) (and aspect for right).
  private readonly ox: number
  private readonly oy: number
  private readonly oz: number
  private readonly fx: number
  private readonly fy: number
  private readonly fz: number
  private readonly rx: number
  private readonly ry: number
  private readonly rz: number
  private readonly ux: number
  private readonly uy: number
  private readonly uz: number
  // Result of the last `nearest` call.
  private hitT = 0
  private hitIndex = -1
  // Noise state of the current pixel (RAYS-6).
  private seed = 0
  private counter = 0
  private readonly stack: Rgb[] = []
  // Texture materials (RAYS-5.4): the asset's bytes, its texel count, the current texel's albedo.
  private readonly asset: Uint8Array
  private readonly texels: number
  private readonly texel: [number, number, number] = [0, 0, 0]

  constructor(
    scene: Scene,
    private readonly width: number,
    private readonly height: number,
    private readonly samples: number,
    asset: Uint8Array | undefined
  ) {
    this.scene = scene
    this.asset = asset ?? new Uint8Array(0)
    this.texels = Math.floor(this.asset.length / 3)
    if (this.texels === 0 && scene.objects.some((o) => o.material.type === 'texture'))
      throw new RangeError('a texture material needs an asset of at least 3 bytes')
    this.jitter = samples > 1
    this.objects = scene.objects.map((o): PreparedObject => {
      const mat = prepareMaterial(o.material)
      if (o.type === 'sphere') {
        const [px, py, pz] = o.center
        return { sphere: true, px, py, pz, r2: o.radius * o.radius, nx: 0, ny: 0, nz: 0, ...zeroAxes, mat }
      }
      const [px, py, pz] = o.point
      const [nx, ny, nz] = unit(o.normal)
      // In-plane axes: u = normalize(a × n) with a the world axis least aligned with n, v = n × u.
      const a: Vec3 = Math.abs(nx) < 0.9 ? [1, 0, 0] : [0, 1, 0]
      const [ux, uy, uz] = unit(cross(a, [nx, ny, nz]))
      const [vx, vy, vz] = cross([nx, ny, nz], [ux, uy, uz])
      return { sphere: false, px, py, pz, r2: 0, nx, ny, nz, ux, uy, uz, vx, vy, vz, mat }
    })
    const cam = scene.camera
    ;[this.ox, this.oy, this.oz] = cam.position
    const f = unit(sub(cam.lookAt, cam.position))
    const r = unit(cross(f, cam.up))
    const u = cross(r, f)
    const tanHalf = Math.tan((cam.fov * Math.PI) / 360)
    const aspect = width / height
    ;[this.fx, this.fy, this.fz] = f
    this.rx = r[0] * tanHalf * aspect
    this.ry = r[1] * tanHalf * aspect
    this.rz = r[2] * tanHalf * aspect
    this.ux = u[0] * tanHalf
    this.uy = u[1] * tanHalf
    this.uz = u[2] * tanHalf
    for (let i = 0; i <= scene.maxDepth; i++) this.stack.push({ r: 0, g: 0, b: 0 })
  }

  /** Next noise value of the current pixel (RAYS-6). */
  private rand(): number {
    return noise(this.seed, this.counter++)
  }

  /** Writes pixel (px, py) of the image as gamma-2, clamped RGBA8 into `out` at `offset`. */
  pixel(px: number, py: number, out: Uint8Array, offset: number): void {
    this.seed = pixelSeed(this.scene.seed, px, py)
    this.counter = 0
    const n = this.samples
    let g = 1
    while (g * g < n) g++
    let sr = 0
    let sg = 0
    let sb = 0
    const c = this.stack[0] as Rgb
    for (let i = 0; i < n; i++) {
      let sx = 0.5
      let sy = 0.5
      if (this.jitter) {
        sx = ((i % g) + this.rand()) / g
        sy = (Math.floor(i / g) + this.rand()) / g
      }
      const nx = (2 * (px + sx)) / this.width - 1
      const ny = 1 - (2 * (py + sy)) / this.height
      let dx = this.fx + nx * this.rx + ny * this.ux
      let dy = this.fy + nx * this.ry + ny * this.uy
      let dz = this.fz + nx * this.rz + ny * this.uz
      const len = Math.sqrt(dx * dx + dy * dy + dz * dz)
      dx /= len
      dy /= len
      dz /= len
      this.trace(this.ox, this.oy, this.oz, dx, dy, dz, 0)
      sr += c.r
      sg += c.g
      sb += c.b
    }
    out[offset] = toByte(sr / n)
    out[offset + 1] = toByte(sg / n)
    out[offset + 2] = toByte(sb / n)
    out[offset + 3] = 255
  }

  /** Nearest hit with t > EPS (and t < maxT) in object order; ties keep the earlier object. */
  private nearest(
    ox: number,
    oy: number,
    oz: number,
    dx: number,
    dy: number,
    dz: number,
    maxT: number
  ): boolean {
    let best = maxT
    let index = -1
    const objs = this.objects
    for (let i = 0; i < objs.length; i++) {
      const o = objs[i] as PreparedObject
      let t: number
      if (o.sphere) {
        const cx = ox - o.px
        const cy = oy - o.py
        const cz = oz - o.pz
        const b = cx * dx + cy * dy + cz * dz
        const disc = b * b - (cx * cx + cy * cy + cz * cz - o.r2)
        if (disc < 0) continue
        const sq = Math.sqrt(disc)
        t = -b - sq
        if (t <= EPS) t = -b + sq
      } else {
        const denom = o.nx * dx + o.ny * dy + o.nz * dz
        // Rays parallel to the plane (|cos| < 1e-12) never hit it.
        if (denom > -1e-12 && denom < 1e-12) continue
        t = ((o.px - ox) * o.nx + (o.py - oy) * o.ny + (o.pz - oz) * o.nz) / denom
      }
      if (t > EPS && t < best) {
        best = t
        index = i
      }
    }
    this.hitT = best
    this.hitIndex = index
    return index >= 0
  }

  /** Colour seen along a unit ray, left in `this.stack[depth]`. */
  private trace(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, depth: number): void {
    const out = this.stack[depth] as Rgb
    const scene = this.scene
    if (!this.nearest(ox, oy, oz, dx, dy, dz, Infinity)) {
      sky(scene, dy, out)
      return
    }
    const o = this.objects[this.hitIndex] as PreparedObject
    const t = this.hitT
    const hx = ox + t * dx
    const hy = oy + t * dy
    const hz = oz + t * dz
    let nx: number
    let ny: number
    let nz: number
    if (o.sphere) {
      nx = hx - o.px
      ny = hy - o.py
      nz = hz - o.pz
      const len = Math.sqrt(nx * nx + ny * ny + nz * nz)
      nx /= len
      ny /= len
      nz /= len
    } else {
      nx = o.nx
      ny = o.ny
      nz = o.nz
    }
    // Two-sided surfaces: the normal faces the incoming ray.
    if (nx * dx + ny * dy + nz * dz > 0) {
      nx = -nx
      ny = -ny
      nz = -nz
    }
    const m = o.mat
    let albedo = m.color
    if (m.kind === 'checker') {
      let cell: number
      if (o.sphere) {
        cell = Math.floor(hx * m.invSize) + Math.floor(hy * m.invSize) + Math.floor(hz * m.invSize)
      } else {
        const qx = hx - o.px
        const qy = hy - o.py
        const qz = hz - o.pz
        cell =
          Math.floor((qx * o.ux + qy * o.uy + qz * o.uz) * m.invSize) +
          Math.floor((qx * o.vx + qy * o.vy + qz * o.vz) * m.invSize)
      }
      if (cell & 1) albedo = m.color2
    } else if (m.kind === 'texture') {
      // RAYS-5.4: the cell's texel, picked by hashing its integer coordinates (mod 2^32)
      let h: number
      if (o.sphere) {
        const i = Math.floor(hx * m.invSize) >>> 0
        const j = Math.floor(hy * m.invSize) >>> 0
        const k = Math.floor(hz * m.invSize) >>> 0
        h = mix32(mix32(mix32(i) ^ j) ^ k)
      } else {
        const qx = hx - o.px
        const qy = hy - o.py
        const qz = hz - o.pz
        const i = Math.floor((qx * o.ux + qy * o.uy + qz * o.uz) * m.invSize) >>> 0
        const j = Math.floor((qx * o.vx + qy * o.vy + qz * o.vz) * m.invSize) >>> 0
        h = mix32(mix32(i) ^ j)
      }
      const at = (h % this.texels) * 3
      const tex = this.texel
      const a = this.asset
      tex[0] = (m.color[0] * (a[at] as number)) / 255
      tex[1] = (m.color[1] * (a[at + 1] as number)) / 255
      tex[2] = (m.color[2] * (a[at + 2] as number)) / 255
      albedo = tex
    }
    // Shading point lifted off the surface against self-shadowing.
    const sx = hx + nx * EPS
    const sy = hy + ny * EPS
    const sz = hz + nz * EPS
    let lr = 0
    let lg = 0
    let lb = 0
    if (m.reflect < 1) {
      const amb = scene.ambient
      lr = amb[0] * albedo[0]
      lg = amb[1] * albedo[1]
      lb = amb[2] * albedo[2]
      for (const light of scene.lights) {
        let lx = light.position[0]
        let ly = light.position[1]
        let lz = light.position[2]
        if (this.jitter && light.radius > 0) {
          // Uniform point in the light's ball by rejection from the cube (RAYS-6).
          for (let k = 0; k < LIGHT_TRIES; k++) {
            const ax = 2 * this.rand() - 1
            const ay = 2 * this.rand() - 1
            const az = 2 * this.rand() - 1
            if (ax * ax + ay * ay + az * az <= 1) {
              lx += ax * light.radius
              ly += ay * light.radius
              lz += az * light.radius
              break
            }
          }
        }
        let Lx = lx - sx
        let Ly = ly - sy
        let Lz = lz - sz
        const dist = Math.sqrt(Lx * Lx + Ly * Ly + Lz * Lz)
        if (dist === 0) continue
        Lx /= dist
        Ly /= dist
        Lz /= dist
        const ndotl = nx * Lx + ny * Ly + nz * Lz
        if (ndotl <= 0) continue
        if (this.nearest(sx, sy, sz, Lx, Ly, Lz, dist)) continue
        const ir = light.color[0] * light.intensity
        const ig = light.color[1] * light.intensity
        const ib = light.color[2] * light.intensity
        lr += albedo[0] * ir * ndotl
        lg += albedo[1] * ig * ndotl
        lb += albedo[2] * ib * ndotl
        if (m.specular > 0) {
          // Phong: the light direction mirrored about n, against the view direction −d.
          const k = 2 * ndotl
          const rdotv = -((k * nx - Lx) * dx + (k * ny - Ly) * dy + (k * nz - Lz) * dz)
          if (rdotv > 0) {
            const s = m.specular * powInt(rdotv, m.shininess)
            lr += s * ir
            lg += s * ig
            lb += s * ib
          }
        }
      }
    }
    if (m.reflect > 0) {
      const k = 2 * (nx * dx + ny * dy + nz * dz)
      const rx = dx - k * nx
      const ry = dy - k * ny
      const rz = dz - k * nz
      let cr: number
      let cg: number
      let cb: number
      if (depth < scene.maxDepth) {
        this.trace(sx, sy, sz, rx, ry, rz, depth + 1)
        const c = this.stack[depth + 1] as Rgb
        cr = c.r
        cg = c.g
        cb = c.b
      } else {
        // Out of bounces: the sky in the reflected direction stands in for the rest of the path.
        sky(scene, ry, out)
        cr = out.r
        cg = out.g
        cb = out.b
      }
      // Mirrors tint the reflection with their colour; glossy diffuse surfaces reflect white.
      const tint = m.kind === 'mirror' ? albedo : WHITE
      const keep = 1 - m.reflect
      out.r = keep * lr + m.reflect * tint[0] * cr
      out.g = keep * lg + m.reflect * tint[1] * cg
      out.b = keep * lb + m.reflect * tint[2] * cb
    } else {
      out.r = lr
      out.g = lg
      out.b = lb
    }
  }
}

const WHITE: Vec3 = [1, 1, 1]
const zeroAxes = { ux: 0, uy: 0, uz: 0, vx: 0, vy: 0, vz: 0 }

/** Sky gradient: horizon colour for dy ≤ 0, blending linearly to the zenith colour at dy = 1. */
function sky(scene: Scene, dy: number, out: Rgb): void {
  const t = Math.max(dy, 0)
  const h = scene.sky.horizon
  const z = scene.sky.zenith
  out.r = h[0] + (z[0] - h[0]) * t
  out.g = h[1] + (z[1] - h[1]) * t
  out.b = h[2] + (z[2] - h[2]) * t
}

/** Clamp to [0, 1], gamma 2 (square root: exact in IEEE 754), round to 0 … 255. */
function toByte(v: number): number {
  const c = Math.min(Math.max(v, 0), 1)
  return Math.floor(Math.sqrt(c) * 255 + 0.5)
}

function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

function unit(a: Vec3): Vec3 {
  const len = Math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])
  return [a[0] / len, a[1] / len, a[2] / len]
}

/**
 * Renders one tile of a checked work item (RAYS-5): a `tile.w` × `tile.h` RGBA image whose
 * pixel (i, j) is pixel (tile.x + i, tile.y + j) of the full image. The caller has checked the
 * work ({@link decodeWork} / {@link checkWork}); the cost is bounded by its limits. A work item
 * with an asset needs its verified bytes (`asset`, RAYS-11).
 */
export function renderTile(work: Work, asset?: Uint8Array): RgbaImage {
  return renderRect(work.scene, work.width, work.height, work.samples, work.tile, asset)
}

/**
 * Renders the whole `width` × `height` image: the reference a buyer compares assembled tiles
 * with. `asset` is the texture of a scene with `texture` materials (RAYS-10).
 */
export function renderImage(
  scene: Scene,
  width: number,
  height: number,
  samples: number,
  asset?: Uint8Array
): RgbaImage {
  return renderRect(scene, width, height, samples, { x: 0, y: 0, w: width, h: height }, asset)
}

function renderRect(
  scene: Scene,
  width: number,
  height: number,
  samples: number,
  tile: Tile,
  asset: Uint8Array | undefined
): RgbaImage {
  const tracer = new Tracer(scene, width, height, samples, asset)
  const data = new Uint8Array(tile.w * tile.h * 4)
  let offset = 0
  for (let j = 0; j < tile.h; j++)
    for (let i = 0; i < tile.w; i++) {
      tracer.pixel(tile.x + i, tile.y + j, data, offset)
      offset += 4
    }
  return { width: tile.w, height: tile.h, data }
}
