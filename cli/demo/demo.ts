/**
 * `bitwrk-node demo work|render` (issue 12.13): the demo article's work file for a tile (its
 * canonical JSON, RAYS-2) and the tile rendered locally from a work file (RAYS-1), so a new
 * user can buy a tile without writing JSON and compare what a seller returned.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import {
  ASSET_LIMITS,
  ASSET_SCENE_JSON,
  assetRefOf,
  DEFAULT_SCENE_JSON,
  DemoCode,
  encodeWork,
  generateAsset,
  RAYS_ARTICLE,
  renderWork,
  WORK_LIMITS,
  WORK_MAX_BYTES
} from '../../node/demo/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { type ParsedArgs, parseArgs, stringFlag } from '../args.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'

/** The image of `demo work` without options: the testnet's job (scripts/testnet/run.ts). */
export const DEMO_IMAGE = { width: 320, height: 240, samples: 4 } as const

/** Usage of `bitwrk-node demo`. */
export const DEMO_USAGE = `usage: bitwrk-node demo work [--tile X,Y,W,H] [--width W] [--height H] [--samples S]
                           [--scene FILE] [--asset FILE] [--out FILE]
       bitwrk-node demo render [WORKFILE] [--asset FILE] [--out FILE]
       bitwrk-node demo asset --mib M [--seed S] [--out FILE]

work    writes the work of one tile of the ${RAYS_ARTICLE} demo image: the canonical JSON
        (RAYS-2) that 'bitwrk-node buy ${RAYS_ARTICLE} FILE' sends and a seller renders.
        The image is W x H pixels (default ${DEMO_IMAGE.width} x ${DEMO_IMAGE.height}) at S samples per pixel
        (default ${DEMO_IMAGE.samples}, at most ${WORK_LIMITS.maxSamples}); the tile is the rectangle at X,Y of W x H
        pixels (default the whole image); the scene a JSON file (default the built-in scene).
        --asset FILE references FILE by its SHA-256 and size (RAYS-10): the scene's texture
        materials show its bytes (default scene then: the built-in one with a textured floor).
        Sellers fetch it by key: upload it to your node first (POST /api/v1/files).
render  renders a work file (default: stdin) to the PNG tile a seller returns (RAYS-1), e.g. to
        compare with a bought one: 'cmp tile.png reference.png'; --asset FILE for work with one.
asset   writes the generated asset of M MiB (RAYS-12; seed S, default 1), as the testnet does.
Output goes to --out FILE, else to stdout.
`

/** A positive integer flag, or `fallback`. */
function intFlag(args: ParsedArgs, name: string, fallback: number): number {
  const v = stringFlag(args, name)
  if (v === undefined) return fallback
  if (!/^\d{1,6}$/.test(v)) throw new BitwrkError(CliCode.badArgument, `bad --${name} '${v.slice(0, 20)}'`)
  return Number(v)
}

/** `--tile X,Y,W,H`, or the whole image. */
function tileFlag(
  args: ParsedArgs,
  width: number,
  height: number
): { x: number; y: number; w: number; h: number } {
  const v = stringFlag(args, 'tile')
  if (v === undefined) return { x: 0, y: 0, w: width, h: height }
  const m = /^(\d{1,6}),(\d{1,6}),(\d{1,6}),(\d{1,6})$/.exec(v)
  if (m === null)
    throw new BitwrkError(CliCode.badArgument, `bad --tile '${v.slice(0, 40)}' (X,Y,W,H, e.g. 0,0,80,60)`)
  const [x, y, w, h] = m.slice(1).map(Number) as [number, number, number, number]
  return { x, y, w, h }
}

/** Writes `bytes` to `--out`, else to the process's stdout (binary: not the text interface). */
async function output(args: ParsedArgs, bytes: Uint8Array): Promise<void> {
  const out = stringFlag(args, 'out')
  if (out !== undefined) await writeFile(out, bytes)
  else process.stdout.write(bytes)
}

/** Reads a work file, or stdin, up to the work limit (RAYS-2). */
async function readWork(file: string | undefined): Promise<Uint8Array> {
  if (file !== undefined) return readFile(file)
  const parts: Buffer[] = []
  let total = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length
    // one byte more than the limit is enough for the decoder to refuse it
    if (total > WORK_MAX_BYTES) break
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}

/** The file of `--asset`, at most the asset limit (RAYS-10), or undefined. */
async function readAsset(args: ParsedArgs): Promise<Uint8Array | undefined> {
  const file = stringFlag(args, 'asset')
  if (file === undefined) return undefined
  if ((await stat(file)).size > ASSET_LIMITS.maxBytes)
    throw new BitwrkError(DemoCode.assetTooLarge, `${file} is larger than ${ASSET_LIMITS.maxBytes} bytes`)
  const bytes = await readFile(file)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
}

/** `bitwrk-node demo work|render|asset`. */
export async function demoCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    if (argv.includes('--help')) {
      io.stdout.write(DEMO_USAGE)
      return EXIT.ok
    }
    const [sub, ...rest] = argv
    if (sub === 'work') {
      const args = parseArgs(
        rest,
        {
          tile: 'string',
          width: 'string',
          height: 'string',
          samples: 'string',
          scene: 'string',
          asset: 'string',
          out: 'string'
        },
        { min: 0, max: 0 }
      )
      const width = intFlag(args, 'width', DEMO_IMAGE.width)
      const height = intFlag(args, 'height', DEMO_IMAGE.height)
      const sceneFile = stringFlag(args, 'scene')
      const asset = await readAsset(args)
      const scene: unknown =
        sceneFile !== undefined
          ? JSON.parse(await readFile(sceneFile, 'utf8'))
          : asset !== undefined
            ? ASSET_SCENE_JSON
            : DEFAULT_SCENE_JSON
      // encodeWork checks every limit of RAYS-3 and RAYS-4 and names the field that breaks one
      const work = encodeWork({
        scene,
        width,
        height,
        samples: intFlag(args, 'samples', DEMO_IMAGE.samples),
        tile: tileFlag(args, width, height),
        ...(asset !== undefined ? { asset: assetRefOf(asset) } : {})
      })
      await output(args, work)
      return EXIT.ok
    }
    if (sub === 'render') {
      const args = parseArgs(
        rest,
        { out: 'string', asset: 'string' },
        { min: 0, max: 1, names: ['WORKFILE'] }
      )
      await output(args, renderWork(await readWork(args.positionals[0]), await readAsset(args)))
      return EXIT.ok
    }
    if (sub === 'asset') {
      const args = parseArgs(rest, { mib: 'string', seed: 'string', out: 'string' }, { min: 0, max: 0 })
      const mib = Number(stringFlag(args, 'mib'))
      const max = ASSET_LIMITS.maxBytes / 2 ** 20
      if (!(mib * 2 ** 20 >= ASSET_LIMITS.minBytes && mib <= max))
        throw new BitwrkError(CliCode.badArgument, `--mib must be a number of MiB above 0, at most ${max}`)
      await output(args, generateAsset(intFlag(args, 'seed', 1), Math.round(mib * 2 ** 20)))
      return EXIT.ok
    }
    throw new BitwrkError(CliCode.badArgument, `bad demo command (try 'bitwrk-node demo --help')`)
  } catch (err) {
    if (err instanceof SyntaxError) {
      io.stderr.write(`bitwrk-node demo: scene file is not JSON [DEMO_BAD_SCENE]\n`)
      return EXIT.failure
    }
    return reportError(err, 'demo', io)
  }
}
