import { parseArticle } from '../../protocol/article/index.js'
import { BlenderCode, fail } from './errors.js'

/**
 * The work codec of the Blender article (spec: protocol/spec/blender-article.md, BLEND-1 …
 * BLEND-5): the original add-on's tagged stream (original §8.5) of records
 * `tag (4 ASCII bytes) ‖ length (uint32 big-endian) ‖ value`, restricted to what a Blender 3.x
 * worker of this project renders. Pure: no I/O. Every length is checked against what is left
 * and against its limit before anything is copied.
 */

/** Article names of this article: the prefix, then a cost class of {@link COST_CLASSES} (BLEND-1). */
export const BLENDER_ARTICLE_PREFIX = 'net.bitwrk/blender/0/3.4/'

/** The default article: Blender 3.4, cost class 512M (BLEND-1). */
export const BLENDER_ARTICLE = `${BLENDER_ARTICLE_PREFIX}512M`

/**
 * Cost classes (BLEND-6): the most `tile pixels × samples × (max bounces + 1)` one job may cost,
 * the original's classes and their values (512M = 512·2^20 … 32G = 32·2^30, original §8.5).
 */
export const COST_CLASSES: Readonly<Record<string, number>> = Object.freeze({
  '512M': 512 * 2 ** 20,
  '2G': 2 * 2 ** 30,
  '8G': 8 * 2 ** 30,
  '32G': 32 * 2 ** 30
})

/**
 * The largest work item: 64 MiB, the trade's work limit (TRADE-13, `maxWorkBytes`), so any
 * work a node can carry is decodable and nothing larger is read.
 */
export const BLENDER_WORK_MAX_BYTES = 64 * 2 ** 20

/** Largest tile side in pixels (BLEND-4): a 4096² RGBA tile is the PNG decoder's limit (RAYS-7). */
export const MAX_TILE_SIDE = 4096

/** Blender's largest image side (`resolution_x`/`_y` ≤ 65536): tile bounds lie in 0 … 65536. */
export const MAX_IMAGE_SIDE = 65536

/** Blender's frame range (MINAFRAME … MAXAFRAME, `DNA_scene_types.h`): −1048574 … 1048574. */
export const MAX_FRAME = 1048574

/** Size of a record header: 4-byte tag and 4-byte big-endian length. */
const HEADER = 8

/** The integer tags, in the order the encoder writes them (BLEND-3). */
const INT_TAGS = ['xmin', 'ymin', 'xmax', 'ymax', 'fram'] as const
type IntTag = (typeof INT_TAGS)[number]

/** One tile of one frame of a .blend: the decoded work (BLEND-3, BLEND-4). */
export interface BlenderWork {
  /** Left pixel column of the tile, inclusive. */
  readonly xmin: number
  /** Bottom pixel row of the tile (rows count from the bottom, as Blender's border), inclusive. */
  readonly ymin: number
  /** Right bound, exclusive. */
  readonly xmax: number
  /** Top bound, exclusive. */
  readonly ymax: number
  /** The frame to render. */
  readonly frame: number
  /** The .blend file, uncompressed (a view into the work bytes). */
  readonly blend: Uint8Array
}

/** The parsed article: its cost class and that class's budget (BLEND-1, BLEND-6). */
export interface BlenderArticle {
  readonly article: string
  readonly costClass: string
  readonly maxCost: number
}

/**
 * Parses a Blender article name `net.bitwrk/blender/0/3.4/<class>[~trusted]` (BLEND-1).
 * @throws BitwrkError `BLENDER_BAD_ARTICLE` for any other name.
 */
export function parseBlenderArticle(article: string): BlenderArticle {
  let base: string
  try {
    base = parseArticle(article).base
  } catch {
    return fail(BlenderCode.badArticle, 'not a valid article name')
  }
  const costClass = base.startsWith(BLENDER_ARTICLE_PREFIX) ? base.slice(BLENDER_ARTICLE_PREFIX.length) : ''
  const maxCost = Object.hasOwn(COST_CLASSES, costClass) ? COST_CLASSES[costClass] : undefined
  if (maxCost === undefined)
    return fail(
      BlenderCode.badArticle,
      `a Blender article is ${BLENDER_ARTICLE_PREFIX}<class> with class ${Object.keys(COST_CLASSES).join(', ')}`
    )
  return { article, costClass, maxCost }
}

/** True when `article` names the Blender 3.4 article of BLEND-1 (any class, with or without `~trusted`). */
export function isBlenderArticle(article: string): boolean {
  try {
    parseBlenderArticle(article)
    return true
  } catch {
    return false
  }
}

function tagText(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4))
}

/** A tag as shown in an error: printable ASCII as is, anything else as hex (never raw peer bytes). */
function shownTag(bytes: Uint8Array, at: number): string {
  const t = bytes.subarray(at, at + 4)
  return t.every((b) => b >= 0x21 && b <= 0x7e) ? tagText(bytes, at) : Buffer.from(t).toString('hex')
}

/** Checks the `blen` value's header (BLEND-5): `BLENDER`, pointer size `_`/`-`, endianness `v`/`V`, 3 digits. */
function checkBlendHeader(blend: Uint8Array): void {
  if (blend.length >= 2 && blend[0] === 0x1f && blend[1] === 0x8b)
    fail(BlenderCode.compressedBlend, 'the .blend is gzip-compressed: save it uncompressed (BLEND-5)')
  if (blend.length >= 4 && blend[0] === 0x28 && blend[1] === 0xb5 && blend[2] === 0x2f && blend[3] === 0xfd)
    fail(BlenderCode.compressedBlend, 'the .blend is zstd-compressed: save it uncompressed (BLEND-5)')
  const head = blend.length >= 12 ? tagText(blend, 0) + tagText(blend, 4) + tagText(blend, 8) : ''
  if (!/^BLENDER[_-][vV][0-9]{3}$/.test(head))
    fail(BlenderCode.notBlend, 'the blen record is not a .blend file')
}

/** Checks the tile and frame of BLEND-4. */
function checkBounds(w: Omit<BlenderWork, 'blend'>): void {
  const { xmin, ymin, xmax, ymax, frame } = w
  if (xmin < 0 || ymin < 0 || xmax > MAX_IMAGE_SIDE || ymax > MAX_IMAGE_SIDE)
    fail(BlenderCode.badTile, `tile bounds must lie in 0 … ${MAX_IMAGE_SIDE}`)
  if (xmax <= xmin || ymax <= ymin) fail(BlenderCode.badTile, 'tile is empty (xmax ≤ xmin or ymax ≤ ymin)')
  if (xmax - xmin > MAX_TILE_SIDE || ymax - ymin > MAX_TILE_SIDE)
    fail(BlenderCode.badTile, `a tile side exceeds ${MAX_TILE_SIDE} pixels`)
  if (frame < -MAX_FRAME || frame > MAX_FRAME) fail(BlenderCode.badFrame, `frame must lie in ±${MAX_FRAME}`)
}

/**
 * Decodes untrusted work bytes (BLEND-2 … BLEND-5). Checks, in order: total size, then record
 * by record (header complete, tag known and not repeated, length allowed and present), that
 * `blen` is the last record and ends the input, that every integer record was present, the
 * bounds (BLEND-4) and the .blend header (BLEND-5).
 * @throws BitwrkError with a `BLENDER_*` code of {@link BlenderCode}.
 */
export function decodeBlenderWork(bytes: Uint8Array): BlenderWork {
  if (bytes.length > BLENDER_WORK_MAX_BYTES)
    fail(BlenderCode.workTooLarge, `work exceeds ${BLENDER_WORK_MAX_BYTES} bytes`, { bytes: bytes.length })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ints = new Map<IntTag, number>()
  let at = 0
  for (;;) {
    if (at === bytes.length) return fail(BlenderCode.missingTag, 'no blen record (the .blend) at the end')
    if (bytes.length - at < HEADER)
      fail(BlenderCode.truncated, 'the stream ends inside a record header', { at })
    const tag = tagText(bytes, at)
    const length = view.getUint32(at + 4, false)
    at += HEADER
    if (length > bytes.length - at)
      fail(
        BlenderCode.truncated,
        `record ${shownTag(bytes, at - HEADER)} is longer than the rest of the stream`,
        {
          at
        }
      )
    if (tag === 'blen') {
      if (at + length !== bytes.length)
        fail(BlenderCode.trailingData, 'bytes follow the blen record (it must be the last)', {
          bytes: bytes.length - at - length
        })
      for (const t of INT_TAGS) if (!ints.has(t)) fail(BlenderCode.missingTag, `no ${t} record`, { tag: t })
      const get = (t: IntTag): number => ints.get(t) as number
      const head = {
        xmin: get('xmin'),
        ymin: get('ymin'),
        xmax: get('xmax'),
        ymax: get('ymax'),
        frame: get('fram')
      }
      checkBounds(head)
      const blend = bytes.subarray(at, at + length)
      checkBlendHeader(blend)
      return { ...head, blend }
    }
    if (tag === 'rsrc')
      fail(BlenderCode.resourcesUnsupported, 'rsrc records are not supported: pack resources into the .blend')
    if (!(INT_TAGS as readonly string[]).includes(tag))
      fail(BlenderCode.unknownTag, `unknown tag ${shownTag(bytes, at - HEADER)}`)
    const t = tag as IntTag
    if (ints.has(t)) fail(BlenderCode.duplicateTag, `tag ${t} appears twice`, { tag: t })
    if (length !== 4)
      fail(BlenderCode.badLength, `record ${t} must be 4 bytes long, not ${length}`, { tag: t })
    ints.set(t, view.getInt32(at, false))
    at += 4
  }
}

/**
 * Encodes work in the canonical order `xmin ymin xmax ymax fram blen` (BLEND-2). Checks what
 * the decoder checks, so what it returns always decodes to the same work.
 * @throws BitwrkError with a `BLENDER_*` code for work the decoder would refuse.
 */
export function encodeBlenderWork(work: BlenderWork): Uint8Array<ArrayBuffer> {
  const values: Record<IntTag, number> = {
    xmin: work.xmin,
    ymin: work.ymin,
    xmax: work.xmax,
    ymax: work.ymax,
    fram: work.frame
  }
  for (const t of INT_TAGS)
    if (!Number.isSafeInteger(values[t])) fail(BlenderCode.badTile, `${t} must be an integer`, { tag: t })
  checkBounds(work)
  checkBlendHeader(work.blend)
  const total = INT_TAGS.length * (HEADER + 4) + HEADER + work.blend.length
  if (total > BLENDER_WORK_MAX_BYTES)
    fail(BlenderCode.workTooLarge, `work exceeds ${BLENDER_WORK_MAX_BYTES} bytes`, { bytes: total })
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let at = 0
  const header = (tag: string, length: number): void => {
    for (let i = 0; i < 4; i++) out[at + i] = tag.charCodeAt(i)
    view.setUint32(at + 4, length, false)
    at += HEADER
  }
  for (const t of INT_TAGS) {
    header(t, 4)
    view.setInt32(at, values[t], false)
    at += 4
  }
  header('blen', work.blend.length)
  out.set(work.blend, at)
  return out
}

/** Tile width and height in pixels. */
export function tileSize(work: Pick<BlenderWork, 'xmin' | 'ymin' | 'xmax' | 'ymax'>): {
  w: number
  h: number
} {
  return { w: work.xmax - work.xmin, h: work.ymax - work.ymin }
}
