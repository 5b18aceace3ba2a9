/**
 * The demo article `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md): scene format,
 * work codec, deterministic ray tracer, PNG codec, tiling and assembly. Pure computation plus
 * `node:zlib`; the worker program is `worker-cli.ts`.
 */
export { assemble, cropImage, imagesEqual, MAX_TILES, type PlacedTile, tilesFor } from './assemble.js'
export { canonicalJson } from './canonical.js'
export { DemoCode, type DemoErrorCode } from './errors.js'
export { crc32, DEFAULT_PNG_LIMITS, decodePng, encodePng, PNG_SIGNATURE, type PngLimits } from './png.js'
export {
  type Camera,
  type CheckerMaterial,
  DEFAULT_SCENE_JSON,
  type DiffuseMaterial,
  defaultScene,
  type Light,
  type Material,
  type MirrorMaterial,
  type Plane,
  parseScene,
  SCENE_LIMITS,
  type Scene,
  type SceneObject,
  type Sky,
  type Sphere,
  type Vec3
} from './scene.js'
export { mix32, noise, pixelSeed, type RgbaImage, renderImage, renderTile } from './tracer.js'
export {
  checkWork,
  decodeWork,
  encodeWork,
  RAYS_ARTICLE,
  type Tile,
  validateWork,
  WORK_LIMITS,
  WORK_MAX_BYTES,
  type Work,
  type WorkCheck
} from './work.js'
export { renderWork } from './worker.js'
