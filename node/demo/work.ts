import { isBitwrkError } from '../../protocol/errors.js'
import { type AssetRef, checkAssetRef } from './asset.js'
import { canonicalJson } from './canonical.js'
import { DemoCode, type DemoErrorCode, fail } from './errors.js'
import { parseScene, type Scene, sceneUsesAsset } from './scene.js'

/**
 * WORK format of the article `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md,
 * RAYS-1 … RAYS-3): one work item asks for one rectangular tile of an image of a scene.
 * The bytes are the canonical JSON (RAYS-2) of
 * `{"article":"net.bitwrk/rays/0","height":H,"samples":S,"scene":{…},"tile":{"h":…,"w":…,"x":…,"y":…},"width":W}`
 * with the scene complete (defaults filled in). Equal requests therefore have equal bytes and
 * equal SHA-256 work hashes, which lets CAFS de-duplicate them.
 */

/** The article name (valid under ART-1 … ART-4). Also the work's domain tag. */
export const RAYS_ARTICLE = 'net.bitwrk/rays/0'

/** Largest accepted work item: a scene at its object limit encodes to about 20 KiB. */
export const WORK_MAX_BYTES = 64 * 1024

/** Limits of RAYS-3. */
export const WORK_LIMITS = {
  /** Largest image width and height. */
  maxImageSide: 4096,
  /** Largest samples per pixel. */
  maxSamples: 64,
  /**
   * Largest tile pixels × samples: 2^22 primary rays (a 2048² tile at one sample, 512² at 16)
   * bound one work item to about 1.4 s on the default scene and about 25 s at the scene limits
   * (64 objects, 8 area lights, depth 8) on one core (scripts/bench/raytracer.ts).
   */
  maxPrimaryRays: 2 ** 22
} as const

/** A tile rectangle in image pixels; (x, y) is its top-left corner. */
export interface Tile {
  readonly x: number
  readonly y: number
  readonly w: number
  readonly h: number
}

/** One work item: render `tile` of the `width` × `height` image of `scene` at `samples` per pixel. */
export interface Work {
  readonly scene: Scene
  readonly width: number
  readonly height: number
  readonly tile: Tile
  readonly samples: number
  /**
   * The input file the scene's `texture` materials read (RAYS-10); present exactly when the
   * scene has one. Absent, the work encodes as before assets existed, byte for byte.
   */
  readonly asset?: AssetRef
}

type Obj = Record<string, unknown>

function exactKeys(v: unknown, keys: readonly string[], what: string, optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return fail(DemoCode.badWork, `${what} must be an object`)
  const have = Object.keys(v)
  for (const k of have)
    if (!keys.includes(k) && !optional.includes(k)) fail(DemoCode.badWork, `${what}: unknown field ${k}`)
  for (const k of keys) if (!Object.hasOwn(v, k)) fail(DemoCode.badWork, `${what}: missing field ${k}`)
  return v as Obj
}

function isIntIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
}

/**
 * Checks a work value (parsed JSON or a caller's object) against RAYS-1 … RAYS-4 and returns
 * it with a complete scene. The caller's scene may omit defaults.
 * @throws BitwrkError `DEMO_BAD_WORK`, `DEMO_BAD_IMAGE_SIZE`, `DEMO_BAD_TILE`,
 *   `DEMO_BAD_SAMPLES`, `DEMO_WORK_TOO_COSTLY`, `DEMO_BAD_SCENE`, `DEMO_SCENE_TOO_LARGE`,
 *   `DEMO_ASSET_TOO_LARGE`.
 */
export function checkWork(value: unknown): Work {
  const o = exactKeys(value, ['article', 'width', 'height', 'tile', 'samples', 'scene'], 'work', ['asset'])
  if (o['article'] !== RAYS_ARTICLE) fail(DemoCode.badWork, `work.article must be ${RAYS_ARTICLE}`)
  const { width, height, samples } = o
  const side = WORK_LIMITS.maxImageSide
  if (!isIntIn(width, 1, side) || !isIntIn(height, 1, side))
    fail(DemoCode.badImageSize, `image size must be integers in 1 … ${side}`)
  const t = exactKeys(o['tile'], ['x', 'y', 'w', 'h'], 'work.tile')
  const { x, y, w, h } = t
  if (
    !isIntIn(x, 0, width - 1) ||
    !isIntIn(y, 0, height - 1) ||
    !isIntIn(w, 1, width - x) ||
    !isIntIn(h, 1, height - y)
  )
    fail(DemoCode.badTile, 'tile must be a non-empty integer rectangle inside the image')
  if (!isIntIn(samples, 1, WORK_LIMITS.maxSamples))
    fail(DemoCode.badSamples, `samples must be an integer in 1 … ${WORK_LIMITS.maxSamples}`)
  if (w * h * samples > WORK_LIMITS.maxPrimaryRays)
    fail(DemoCode.workTooCostly, `tile pixels × samples exceed ${WORK_LIMITS.maxPrimaryRays}`)
  const scene = parseScene(o['scene'])
  // RAYS-10: an asset is checked after the scene, and present exactly when a texture reads it
  const asset = o['asset'] === undefined ? undefined : checkAssetRef(o['asset'])
  if (sceneUsesAsset(scene) !== (asset !== undefined))
    fail(
      DemoCode.badWork,
      asset === undefined ? 'a texture material needs work.asset' : 'work.asset without a texture material'
    )
  const work = { scene, width, height, tile: { x, y, w, h }, samples }
  return asset === undefined ? work : { ...work, asset }
}

/** The canonical JSON text of a checked work item. */
function canonicalText(work: Work): string {
  return canonicalJson({
    article: RAYS_ARTICLE,
    width: work.width,
    height: work.height,
    tile: work.tile,
    samples: work.samples,
    scene: work.scene,
    // absent, canonicalJson leaves the field out: work without an asset is unchanged (RAYS-10)
    asset: work.asset
  })
}

/**
 * Encodes a work item canonically (RAYS-2) after checking it ({@link checkWork}); the scene may
 * be given in short form. `decodeWork(encodeWork(w))` returns `w` with a complete scene.
 * @throws BitwrkError with the codes of {@link checkWork}, or `DEMO_WORK_TOO_LARGE`.
 */
export function encodeWork(work: Omit<Work, 'scene'> & { scene: unknown }): Uint8Array {
  const checked = checkWork({ article: RAYS_ARTICLE, ...work })
  const bytes = new TextEncoder().encode(canonicalText(checked))
  if (bytes.length > WORK_MAX_BYTES)
    fail(DemoCode.workTooLarge, `work encodes to ${bytes.length} > ${WORK_MAX_BYTES} bytes`)
  return bytes
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Decodes untrusted work bytes strictly: size first, then UTF-8, JSON, the fields and their
 * limits, and last that the bytes are exactly the canonical encoding (RAYS-2).
 * @throws BitwrkError `DEMO_WORK_TOO_LARGE`, `DEMO_BAD_WORK`, `DEMO_WORK_NOT_CANONICAL` or a code
 *   of {@link checkWork}.
 */
export function decodeWork(bytes: Uint8Array): Work {
  if (!(bytes instanceof Uint8Array)) return fail(DemoCode.badWork, 'work must be bytes')
  if (bytes.length > WORK_MAX_BYTES)
    fail(DemoCode.workTooLarge, `work has ${bytes.length} > ${WORK_MAX_BYTES} bytes`)
  let text: string
  let value: unknown
  try {
    text = UTF8.decode(bytes)
    value = JSON.parse(text)
  } catch {
    return fail(DemoCode.badWork, 'work is not UTF-8 JSON')
  }
  const work = checkWork(value)
  if (canonicalText(work) !== text)
    fail(DemoCode.workNotCanonical, 'work bytes are not in canonical form (RAYS-2)')
  return work
}

/** Result of {@link validateWork}: a seller rejects work it cannot decode, with the code. */
export type WorkCheck = { result: 'accept'; work: Work } | { result: 'reject'; code: DemoErrorCode }

/** {@link decodeWork} as a validator that never throws for bad input. */
export function validateWork(bytes: Uint8Array): WorkCheck {
  try {
    return { result: 'accept', work: decodeWork(bytes) }
  } catch (err) {
    if (isBitwrkError(err) && err.code.startsWith('DEMO_'))
      return { result: 'reject', code: err.code as DemoErrorCode }
    throw err
  }
}
