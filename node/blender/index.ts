/**
 * The Blender article `net.bitwrk/blender/0/3.4/<class>` (spec:
 * protocol/spec/blender-article.md): the tagged work stream, the worker's render with a real
 * Blender, tiling and assembly for buyers, and a test scene made by Blender's Python.
 */
export {
  assembleFrame,
  type BlenderTile,
  blenderTiles,
  boundsOf,
  type FramedTile,
  tileOf
} from './assemble.js'
export { BlenderCode, type BlenderErrorCode } from './errors.js'
export { BLENDER_LOCATION, findBlender } from './find.js'
export {
  type BlenderRenderOptions,
  blenderArgs,
  DEFAULT_RENDER_TIMEOUT_MS,
  renderBlenderWork
} from './render.js'
export { createTestScene, TEST_SCENE, type TestSceneOptions } from './scene.js'
export {
  BLENDER_ARTICLE,
  BLENDER_ARTICLE_PREFIX,
  BLENDER_WORK_MAX_BYTES,
  type BlenderArticle,
  type BlenderWork,
  COST_CLASSES,
  decodeBlenderWork,
  encodeBlenderWork,
  isBlenderArticle,
  MAX_FRAME,
  MAX_IMAGE_SIDE,
  MAX_TILE_SIDE,
  parseBlenderArticle,
  tileSize
} from './work.js'
