/**
 * Demo images for the dashboard (issue 7): the tiles of the ray-tracing demo article
 * (`net.bitwrk/rays/0`, protocol/spec/demo-article.md) that this node buys, grouped by image
 * (scene, size, samples), with each tile's state, and a PNG of the tiles finished so far
 * (the others transparent) composed on request from the result files in the chunk store.
 * Tiles of Blender frames (issue 17, protocol/spec/blender-article.md) are grouped by .blend
 * and frame; the work does not carry the frame's size, so a frame is as large as its tiles
 * reach (all of a frame's tiles are bought at once, so it has its full size from the start).
 */
import { createHash } from 'node:crypto'
import { exportStream } from '../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { evictOldest } from '../../protocol/util/index.js'
import type { DemoImageView, DemoTileView } from '../api/facade.js'
import { BLENDER_WORK_MAX_BYTES, type BlenderWork, decodeBlenderWork, tileOf } from '../blender/index.js'
import {
  canonicalJson,
  decodePng,
  decodeWork,
  encodePng,
  RAYS_ARTICLE,
  type Tile,
  WORK_MAX_BYTES
} from '../demo/index.js'

/** Bytes before a Blender work's .blend: five integer records of 12 bytes and blen's 8-byte header (BLEND-2). */
const BLENDER_HEAD = 5 * 12 + 8
/** The .blend header checked by BLEND-5. */
const BLEND_HEADER = 12

/** Images remembered (oldest dropped): a dashboard shows the last few. */
export const MAX_DEMO_IMAGES = 8

/** Largest image composed for the dashboard: 2048² RGBA is 16 MiB of pixels. */
export const MAX_COMPOSED_PIXELS = 2048 * 2048

interface TileEntry {
  /** The demo tile, or a Blender tile's rectangle in a frame as high as its bounds reach. */
  readonly tile: Tile
  /** A Blender tile's bounds (rows from the bottom, BLEND-4). */
  readonly bounds?: Pick<BlenderWork, 'xmin' | 'ymin' | 'xmax' | 'ymax'>
  state: DemoTileView['state']
  result: Manifest | undefined
}

interface ImageEntry {
  readonly id: string
  width: number
  height: number
  readonly samples: number
  /** A Blender frame's number. */
  readonly frame?: number
  /** Tiles by `x,y,w,h`. */
  readonly tiles: Map<string, TileEntry>
  cache: { key: string; png: Uint8Array } | undefined
}

/** Reports the outcome of one bought tile. */
export interface DemoTileHandle {
  done(result: Manifest): void
  failed(): void
}

async function readAll(m: Manifest, store: ChunkStore): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of exportStream(m, store)) parts.push(c)
  return Buffer.concat(parts)
}

/** A tile's rectangle in its image: a Blender tile's rows count from the frame's bottom. */
function placeOf(t: TileEntry, height: number): Tile {
  return t.bounds === undefined ? t.tile : tileOf(t.bounds, height)
}

/** The demo images of one node. */
export class DemoImages {
  private readonly images = new Map<string, ImageEntry>()
  private version = 0

  constructor(
    private readonly store: ChunkStore,
    private readonly onChange: (id: string) => void = () => {}
  ) {}

  /**
   * Registers the work of a buy when it is a valid demo work item (else undefined): its tile
   * becomes pending until the handle reports the result.
   */
  async track(work: Manifest, article?: string): Promise<DemoTileHandle | undefined> {
    if (article !== undefined && article !== RAYS_ARTICLE) return this.trackBlender(work)
    if (work.size > WORK_MAX_BYTES) return undefined
    let w: ReturnType<typeof decodeWork>
    try {
      w = decodeWork(await readAll(work, this.store))
    } catch {
      return undefined
    }
    const id = createHash('sha256')
      .update(canonicalJson({ scene: w.scene, width: w.width, height: w.height, samples: w.samples }))
      .digest('hex')
      .slice(0, 16)
    let img = this.images.get(id)
    if (img === undefined) {
      img = { id, width: w.width, height: w.height, samples: w.samples, tiles: new Map(), cache: undefined }
      this.images.set(id, img)
      evictOldest(this.images, MAX_DEMO_IMAGES)
    }
    return this.pending(img, `${w.tile.x},${w.tile.y},${w.tile.w},${w.tile.h}`, { tile: w.tile })
  }

  /**
   * {@link track} for a Blender tile (BLEND-3): its frame is the .blend's hash and the frame
   * number. The work is streamed from the store, never held whole (up to 64 MiB per tile): its
   * six records' headers (68 bytes) and the .blend's own header are decoded, the rest hashed.
   */
  private async trackBlender(work: Manifest): Promise<DemoTileHandle | undefined> {
    if (work.size > BLENDER_WORK_MAX_BYTES || work.size < BLENDER_HEAD + BLEND_HEADER) return undefined
    const head = new Uint8Array(BLENDER_HEAD + BLEND_HEADER)
    const hash = createHash('sha256')
    let at = 0
    for await (const c of exportStream(work, this.store)) {
      if (at < head.length) head.set(c.subarray(0, head.length - at), at)
      hash.update(c.subarray(Math.max(0, BLENDER_HEAD - at)))
      at += c.length
    }
    let w: BlenderWork
    try {
      // a valid stream has exactly five 12-byte integer records, then blen's 8-byte header: the
      // head alone decodes once blen's length is cut to the 12 bytes of the .blend read here
      const view = new DataView(head.buffer)
      if (view.getUint32(BLENDER_HEAD - 4, false) !== work.size - BLENDER_HEAD) return undefined
      view.setUint32(BLENDER_HEAD - 4, BLEND_HEADER, false)
      w = decodeBlenderWork(head)
    } catch {
      return undefined
    }
    const id = createHash('sha256')
      .update(`blender ${w.frame} `)
      .update(hash.digest())
      .digest('hex')
      .slice(0, 16)
    let img = this.images.get(id)
    if (img === undefined) {
      img = { id, width: 0, height: 0, samples: 0, frame: w.frame, tiles: new Map(), cache: undefined }
      this.images.set(id, img)
      evictOldest(this.images, MAX_DEMO_IMAGES)
    }
    img.width = Math.max(img.width, w.xmax)
    img.height = Math.max(img.height, w.ymax)
    const bounds = { xmin: w.xmin, ymin: w.ymin, xmax: w.xmax, ymax: w.ymax }
    return this.pending(img, `${w.xmin},${w.ymin},${w.xmax},${w.ymax}`, {
      tile: tileOf(bounds, w.ymax),
      bounds
    })
  }

  /** Marks tile `key` of `img` pending and returns the handle that reports its outcome. */
  private pending(img: ImageEntry, key: string, place: Pick<TileEntry, 'tile' | 'bounds'>): DemoTileHandle {
    const id = img.id
    const entry: TileEntry = img.tiles.get(key) ?? { ...place, state: 'pending', result: undefined }
    entry.state = 'pending'
    img.tiles.set(key, entry)
    this.changed(id)
    return {
      done: (result) => {
        entry.state = 'done'
        entry.result = result
        this.changed(id)
      },
      failed: () => {
        if (entry.state === 'pending') entry.state = 'failed'
        this.changed(id)
      }
    }
  }

  /** The images, oldest first. */
  list(): DemoImageView[] {
    return [...this.images.values()].map((img) => ({
      id: img.id,
      width: img.width,
      height: img.height,
      samples: img.samples,
      ...(img.frame !== undefined ? { frame: img.frame } : {}),
      tiles: [...img.tiles.values()].map((t) => ({ ...placeOf(t, img.height), state: t.state }))
    }))
  }

  /** Changes so far (a revision for the event stream). */
  revision(): string {
    return String(this.version)
  }

  /** The PNG of the finished tiles of image `id`; undefined when unknown or too large. */
  async png(id: string): Promise<Uint8Array | undefined> {
    const img = this.images.get(id)
    if (img === undefined || img.width * img.height > MAX_COMPOSED_PIXELS) return undefined
    const done = [...img.tiles.values()].filter((t) => t.state === 'done' && t.result !== undefined)
    const key = `${img.width}x${img.height} ${done.map((t) => t.result?.fileKey.toString()).join(';')}`
    if (img.cache?.key === key) return img.cache.png
    const data = new Uint8Array(img.width * img.height * 4)
    for (const t of done) {
      let tile: ReturnType<typeof decodePng>
      try {
        tile = decodePng(await readAll(t.result as Manifest, this.store))
      } catch {
        // a result evicted from the store or not a PNG: the tile stays transparent
        continue
      }
      const { x, y, w, h } = placeOf(t, img.height)
      if (tile.width !== w || tile.height !== h || x + w > img.width || y + h > img.height) continue
      for (let j = 0; j < h; j++)
        data.set(tile.data.subarray(j * w * 4, (j + 1) * w * 4), ((y + j) * img.width + x) * 4)
    }
    const png = encodePng({ width: img.width, height: img.height, data })
    img.cache = { key, png }
    return png
  }

  private changed(id: string): void {
    this.version++
    this.onChange(id)
  }
}
