/**
 * `bitwrk-node render SCENE.blend --frame N --tiles K --out FRAME.png` (issue 17): the buyer's
 * tool of the Blender article. Cuts the frame into K tiles (BLEND-10), buys them in parallel
 * through the running daemon (`POST /buy/<article>`, each with its own `?ref=`, API-21; at most
 * `--concurrency` at once, each tile's work encoded when its buy starts), shows
 * one progress line per tile, checks every tile (a PNG of exactly its size) and writes the
 * assembled frame as PNG. The frame's size comes from `--size WxH` or from the local Blender.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import type { ActivityView } from '../../node/api/index.js'
import {
  assembleFrame,
  BLENDER_ARTICLE,
  type BlenderTile,
  blenderTiles,
  encodeBlenderWork,
  findBlender,
  MAX_FRAME,
  MAX_IMAGE_SIDE,
  parseBlenderArticle
} from '../../node/blender/index.js'
import { decodePng, encodePng, MAX_TILES, type RgbaImage } from '../../node/demo/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { moneyArgument, type ParsedArgs, parseArgs, stringFlag } from '../args.js'
import { BuyProgress, describeActivity, watchActivities } from '../buy/progress.js'
import { apiError, DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonEndpoint, daemonHeaders } from '../daemon.js'
import { CliCode, type CommandIo, EXIT, type Output, reportError } from '../io.js'

/** Usage of `bitwrk-node render`. */
export const RENDER_USAGE = `usage: bitwrk-node render SCENE.blend --frame N --tiles K --out FRAME.png
                         [--article A] [--size WxH | --blender PATH] [--max-price P]
                         [--timeout S] [--concurrency C] [--data-dir DIR | --api URL]

Renders frame N of SCENE.blend on the market: cuts it into K tiles, buys them in parallel
through the running daemon (article ${BLENDER_ARTICLE} unless --article names another class)
and writes the assembled frame as PNG. Needs a BUY mandate for the article. The .blend must be
saved uncompressed with its resources packed (protocol/spec/blender-article.md, BLEND-5, BLEND-7).
  --size WxH       the frame's size in pixels (default: asked from the local Blender)
  --blender PATH   the local Blender that reads the size (default: blender on PATH)
  --max-price P    bid at most P per tile (default: the mandate's limit)
  --timeout S      give up a tile after S seconds (1 to 86400)
  --concurrency C  tiles bought at once (1 to 256, default 16)
${DAEMON_FLAGS_USAGE}
`

/** Error codes of `bitwrk-node render`. */
export const RenderCliCode = {
  /** Some tiles could not be bought or were not the PNG of their rectangle. */
  TILES_FAILED: 'CLI_RENDER_TILES_FAILED',
  /** The local Blender could not tell the frame's size. */
  NO_SIZE: 'CLI_RENDER_NO_SIZE'
} as const

/** Longest a tile may take from the CLI's side without --timeout (the node's deadlines end it sooner). */
const TILE_TIMEOUT_MS = 30 * 60_000
/** Tiles bought at once unless `--concurrency` says otherwise (the original add-on's default was 20). */
const DEFAULT_CONCURRENCY = 16

/** How long the local Blender may take to read the scene's size. */
const SIZE_TIMEOUT_MS = 60_000

function intFlag(args: ParsedArgs, name: string, min: number, max: number, fallback?: number): number {
  const text = stringFlag(args, name)
  if (text === undefined) {
    if (fallback !== undefined) return fallback
    throw new BitwrkError(CliCode.missingArgument, `missing --${name}`)
  }
  const n = /^-?[0-9]{1,8}$/.test(text) ? Number(text) : Number.NaN
  if (!(n >= min && n <= max))
    throw new BitwrkError(CliCode.badArgument, `--${name} must be a whole number ${min} … ${max}`)
  return n
}

/** `--size WxH`, checked; undefined when absent. */
function sizeFlag(args: ParsedArgs): { width: number; height: number } | undefined {
  const size = stringFlag(args, 'size')
  if (size === undefined) return undefined
  const m = /^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$/.exec(size)
  const width = Number(m?.[1])
  const height = Number(m?.[2])
  if (m === null || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE)
    throw new BitwrkError(CliCode.badArgument, `--size must be WIDTHxHEIGHT, each 1 … ${MAX_IMAGE_SIDE}`)
  return { width, height }
}

/** The frame's size: `--size WxH`, else the scene's resolution × percentage as the local Blender reads it. */
async function frameSize(args: ParsedArgs, file: string): Promise<{ width: number; height: number }> {
  const size = sizeFlag(args)
  if (size !== undefined) return size
  const blender = stringFlag(args, 'blender') ?? findBlender()
  if (blender === undefined)
    throw new BitwrkError(
      RenderCliCode.NO_SIZE,
      'no local Blender to read the frame size: give --size WxH or --blender PATH'
    )
  const expr =
    'import bpy; r = bpy.context.scene.render; ' +
    "print('BITWRK_SIZE', r.resolution_x * r.resolution_percentage // 100, r.resolution_y * r.resolution_percentage // 100)"
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      blender,
      ['-b', '--factory-startup', '--disable-autoexec', '-noaudio', file, '--python-expr', expr],
      { timeout: SIZE_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' },
      (err, stdout) => (err !== null ? reject(err) : resolve(stdout))
    )
  ).catch((err: unknown) => {
    throw new BitwrkError(
      RenderCliCode.NO_SIZE,
      `Blender could not read ${file}: ${String(err).slice(0, 200)}`
    )
  })
  const m = /^BITWRK_SIZE ([0-9]+) ([0-9]+)$/m.exec(out)
  if (m === null) throw new BitwrkError(RenderCliCode.NO_SIZE, `Blender did not tell the size of ${file}`)
  return { width: Number(m[1]), height: Number(m[2]) }
}

/** One line per tile: redrawn in place on a terminal, a line per change otherwise. */
class TileLines {
  private readonly lines: string[]
  private readonly plain: BuyProgress[]
  private drawn = false

  constructor(
    private readonly out: Output,
    private readonly tty: boolean,
    count: number
  ) {
    this.lines = Array.from({ length: count }, () => 'waiting')
    this.plain = Array.from(
      { length: count },
      (_, i) => new BuyProgress(out, `tile ${i + 1}/${count}`, false)
    )
  }

  set(i: number, a: ActivityView | string): void {
    if (typeof a !== 'string') this.plain[i]?.show(a)
    else if (!this.tty) this.out.write(`tile ${i + 1}/${this.lines.length}: ${a}\n`)
    this.lines[i] = typeof a === 'string' ? a : describeActivity(a, { bars: true })
    this.draw()
  }

  draw(): void {
    if (!this.tty) return
    const width = Math.max(20, (this.out.columns ?? 100) - 1)
    // back to the first tile's line (CSI n A), then each line erased and written again
    let text = this.drawn ? `\x1b[${this.lines.length}A` : ''
    this.lines.forEach((l, i) => {
      text += `\r${`tile ${i + 1}/${this.lines.length}: ${l}`.slice(0, width)}\x1b[K\n`
    })
    this.drawn = true
    this.out.write(text)
  }
}

/** `bitwrk-node render`. */
export async function renderCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const watching = new AbortController()
  try {
    if (argv.includes('--help')) {
      io.stdout.write(RENDER_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(
      argv,
      {
        ...DAEMON_FLAGS,
        frame: 'string',
        tiles: 'string',
        out: 'string',
        article: 'string',
        size: 'string',
        blender: 'string',
        'max-price': 'string',
        timeout: 'string',
        concurrency: 'string'
      },
      { min: 1, max: 1, names: ['SCENE.blend'] }
    )
    const [file] = args.positionals as [string]
    const frame = intFlag(args, 'frame', -MAX_FRAME, MAX_FRAME)
    const k = intFlag(args, 'tiles', 1, MAX_TILES)
    const out = stringFlag(args, 'out')
    if (out === undefined) throw new BitwrkError(CliCode.missingArgument, 'missing --out FRAME.png')
    const article = parseBlenderArticle(stringFlag(args, 'article') ?? BLENDER_ARTICLE).article
    const priceText = stringFlag(args, 'max-price')
    const price = priceText === undefined ? undefined : moneyArgument(priceText, '--max-price')
    const timeoutS =
      stringFlag(args, 'timeout') === undefined ? undefined : intFlag(args, 'timeout', 1, 86_400)
    sizeFlag(args)
    const blend = new Uint8Array(await readFile(file))
    const { width, height } = await frameSize(args, file)
    const tiles = blenderTiles(width, height, k)
    const concurrency = intFlag(args, 'concurrency', 1, 256, Math.min(k, DEFAULT_CONCURRENCY))
    // each tile's work is encoded when its buy starts: at most `concurrency` copies of the .blend
    const workOf = (i: number): Uint8Array<ArrayBuffer> =>
      encodeBlenderWork({ ...(tiles[i] as BlenderTile).bounds, frame, blend })
    // encoding checks the .blend's header (BLEND-5) before anything is bought
    workOf(0)
    const endpoint = await daemonEndpoint(args, io)
    const prefix = `render-${randomBytes(6).toString('hex')}`
    const refs = tiles.map((_, i) => `${prefix}-${i}`)
    io.stderr.write(`render: frame ${frame} of ${file} (${width}x${height}) as ${k} tiles of ${article}\n`)
    const lines = new TileLines(io.stderr, io.stderr.isTTY === true, k)
    lines.draw()
    const update = async (): Promise<void> => {
      const res = await fetch(`${endpoint.base}/api/v1/activities`, {
        headers: daemonHeaders(endpoint),
        signal: watching.signal
      })
      if (!res.ok) return
      const list = (await res.json()) as ActivityView[]
      for (const a of list) {
        const i = a.ref === null || a.ref === undefined ? -1 : refs.indexOf(a.ref)
        if (i >= 0 && a.alive) lines.set(i, a)
      }
    }
    // progress is a view: a stream that fails never fails the render
    const watched = watchActivities(endpoint, watching.signal, update).catch(() => {})
    const images: (RgbaImage | undefined)[] = new Array(k)
    const failures: string[] = []
    let next = 0
    const buyer = async (): Promise<void> => {
      for (let i = next++; i < k; i = next++) {
        const work = workOf(i)
        const query = new URLSearchParams({ ref: refs[i] as string })
        if (price !== undefined) query.set('price', price)
        if (timeoutS !== undefined) query.set('timeout', String(timeoutS))
        try {
          const res = await fetch(`${endpoint.base}/buy/${article}?${query}`, {
            method: 'POST',
            body: work,
            headers: daemonHeaders(endpoint, { 'content-type': 'application/octet-stream' }),
            signal: AbortSignal.timeout(timeoutS === undefined ? TILE_TIMEOUT_MS : timeoutS * 1000 + 30_000)
          })
          const body = new Uint8Array(await res.arrayBuffer())
          if (!res.ok) {
            let answer: unknown
            try {
              answer = JSON.parse(Buffer.from(body).toString('utf8'))
            } catch {}
            throw apiError(res.status, answer)
          }
          const image = decodePng(body)
          const t = tiles[i] as BlenderTile
          if (image.width !== t.tile.w || image.height !== t.tile.h)
            throw new Error(`the tile is ${image.width}x${image.height}, not ${t.tile.w}x${t.tile.h}`)
          images[i] = image
          lines.set(i, `done, ${body.length} bytes`)
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err)
          failures.push(`tile ${i + 1}: ${why.slice(0, 200)}`)
          lines.set(i, `failed: ${why.slice(0, 120)}`)
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, buyer))
    watching.abort()
    await watched
    if (failures.length > 0)
      throw new BitwrkError(
        RenderCliCode.TILES_FAILED,
        `${failures.length} of ${k} tiles failed (${failures[0]})`
      )
    const image = assembleFrame(
      width,
      height,
      tiles.map((tile, i) => ({ tile, image: images[i] as RgbaImage }))
    )
    await writeFile(out, encodePng(image))
    io.stderr.write(`render: frame written to ${out}\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'render', io)
  } finally {
    watching.abort()
  }
}
