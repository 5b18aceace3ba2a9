import { BitwrkError } from '../../protocol/errors.js'

/**
 * Error codes of the Blender article `net.bitwrk/blender/0/3.4/<class>` (spec:
 * protocol/spec/blender-article.md, BLEND-12). The work decoder and the worker face untrusted
 * bytes (a seller receives work from any buyer), so every way to fail has its own code, and the
 * worker reports it as one line `<CODE>: <message>`.
 */
export const BlenderCode = {
  /** Work bytes exceed {@link BLENDER_WORK_MAX_BYTES} (BLEND-2). */
  workTooLarge: 'BLENDER_WORK_TOO_LARGE',
  /** The stream ends inside a record header or a record's value (BLEND-2). */
  truncated: 'BLENDER_TRUNCATED',
  /** A tag that is not one of BLEND-3's (BLEND-3). */
  unknownTag: 'BLENDER_UNKNOWN_TAG',
  /** An `rsrc` record: external resources are not carried, pack them into the .blend (BLEND-3). */
  resourcesUnsupported: 'BLENDER_RESOURCES_UNSUPPORTED',
  /** A tag that appears twice (BLEND-3). */
  duplicateTag: 'BLENDER_DUPLICATE_TAG',
  /** A required record is missing (BLEND-3). */
  missingTag: 'BLENDER_MISSING_TAG',
  /** A record length other than 4 for an integer, or beyond the limit for `blen` (BLEND-2, BLEND-3). */
  badLength: 'BLENDER_BAD_LENGTH',
  /** Bytes after the `blen` record (BLEND-2). */
  trailingData: 'BLENDER_TRAILING_DATA',
  /** Tile bounds empty, negative, beyond 65536, or a side above 4096 pixels (BLEND-4). */
  badTile: 'BLENDER_BAD_TILE',
  /** Frame outside Blender's frame range (BLEND-4). */
  badFrame: 'BLENDER_BAD_FRAME',
  /** The `blen` value does not start with an uncompressed .blend header (BLEND-5). */
  notBlend: 'BLENDER_NOT_BLEND',
  /** The `blen` value is a gzip- or zstd-compressed .blend (BLEND-5: save it uncompressed). */
  compressedBlend: 'BLENDER_COMPRESSED_BLEND',
  /** Blender could not read the .blend (BLEND-7). */
  badBlend: 'BLENDER_BAD_BLEND',
  /** The .blend links a library or names a file outside itself (BLEND-7). */
  externalFile: 'BLENDER_EXTERNAL_FILE',
  /** The scene has no camera (BLEND-7). */
  noCamera: 'BLENDER_NO_CAMERA',
  /** The tile does not lie inside the scene's image (BLEND-7). */
  tileOutside: 'BLENDER_TILE_OUTSIDE',
  /** Tile pixels × samples × (bounces + 1) exceed the article's cost class (BLEND-6). */
  workTooCostly: 'BLENDER_WORK_TOO_COSTLY',
  /** The render did not finish within the worker's time limit; Blender was killed (BLEND-8). */
  timeout: 'BLENDER_TIMEOUT',
  /** Blender failed otherwise: crashed, wrote no tile or a tile of the wrong size (BLEND-8). */
  renderFailed: 'BLENDER_RENDER_FAILED',
  /** An article name that is not `net.bitwrk/blender/0/3.4/<class>` (BLEND-1). */
  badArticle: 'BLENDER_BAD_ARTICLE'
} as const

/** One of the {@link BlenderCode} values. */
export type BlenderErrorCode = (typeof BlenderCode)[keyof typeof BlenderCode]

/** Throws a {@link BitwrkError} with a Blender code; `never` so callers can `return fail(...)`. */
export function fail(code: BlenderErrorCode, message: string, details: Record<string, unknown> = {}): never {
  throw new BitwrkError(code, message, details)
}
