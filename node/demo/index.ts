/**
 * The demo article `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md): scene format,
 * work codec, deterministic ray tracer, PNG codec, tiling and assembly. Pure computation plus
 * `node:zlib`; the worker program is `worker-cli.ts`.
 */
export { assemble, cropImage, imagesEqual, MAX_TILES, type PlacedTile, tilesFor } from './assemble.js'
export {
  ASSET_LIMITS,
  type AssetRef,
  assetKey,
  assetRefOf,
  checkAssetRef,
  generateAsset,
  verifyAsset
} from './asset.js'
export {
  ASSET_FETCH_TIMEOUT_MS,
  fetchAsset,
  NODE_API_ENV,
  NODE_TOKEN_ENV,
  type NodeApi,
  nodeApiFromEnv
} from './asset-fetch.js'
export { canonicalJson } from './canonical.js'
export { DemoCode, type DemoErrorCode } from './errors.js'
export { crc32, DEFAULT_PNG_LIMITS, decodePng, encodePng, PNG_SIGNATURE, type PngLimits } from './png.js'
export {
  ASSET_SCENE_JSON,
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
  sceneUsesAsset,
  type TextureMaterial,
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
export { renderChecked, renderWork } from './worker.js'
