/**
 * Demo images for the dashboard (issue 7): the tiles of the ray-tracing demo article
 * (`net.bitwrk/rays/0`, protocol/spec/demo-article.md) that this node buys, grouped by image
 * (scene, size, samples), with each tile's state, and a PNG of the tiles finished so far
 * (the others transparent) composed on request from the result files in the chunk store.
 */
import { createHash } from 'node:crypto'
import { exportStream } from '../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { evictOldest } from '../../protocol/util/index.js'
import type { DemoImageView, DemoTileView } from '../api/facade.js'
import { canonicalJson, decodePng, decodeWork, encodePng, type Tile, WORK_MAX_BYTES } from '../demo/index.js'

/** Images remembered (oldest dropped): a dashboard shows the last few. */
export const MAX_DEMO_IMAGES = 8

/** Largest image composed for the dashboard: 2048² RGBA is 16 MiB of pixels. */
export const MAX_COMPOSED_PIXELS = 2048 * 2048

interface TileEntry {
  readonly tile: Tile
  state: DemoTileView['state']
  result: Manifest | undefined
}

interface ImageEntry {
  readonly id: string
  readonly width: number
  readonly height: number
  readonly samples: number
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
  async track(work: Manifest): Promise<DemoTileHandle | undefined> {
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
    const key = `${w.tile.x},${w.tile.y},${w.tile.w},${w.tile.h}`
    const entry: TileEntry = img.tiles.get(key) ?? { tile: w.tile, state: 'pending', result: undefined }
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
      tiles: [...img.tiles.values()].map((t) => ({ ...t.tile, state: t.state }))
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
    const key = done.map((t) => t.result?.fileKey.toString()).join(';')
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
      const { x, y, w, h } = t.tile
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
