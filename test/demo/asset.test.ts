import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  ASSET_LIMITS,
  ASSET_SCENE_JSON,
  assetRefOf,
  checkAssetRef,
  DEFAULT_SCENE_JSON,
  DemoCode,
  decodePng,
  decodeWork,
  encodeWork,
  fetchAsset,
  generateAsset,
  imagesEqual,
  mix32,
  NODE_API_ENV,
  NODE_TOKEN_ENV,
  renderChecked,
  renderTile,
  renderWork,
  validateWork
} from '../../node/demo/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { clone } from './helpers.js'

/** protocol/spec/demo-article.md, read so that its vectors cannot drift from the code. */
const SPEC = readFileSync(
  fileURLToPath(new URL('../../../protocol/spec/demo-article.md', import.meta.url)),
  'utf8'
)
const VECTORS = SPEC.slice(SPEC.indexOf('## Test vectors'))

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b)

/** The spec's vector text after `label` (the first 64-hex digest, or the first code block). */
function digestAfter(label: string): string {
  const at = VECTORS.indexOf(label)
  assert.ok(at >= 0, `the spec has the vector ${label}`)
  const m = /`([0-9a-f]{64})`/.exec(VECTORS.slice(at))
  assert.ok(m !== null, `a digest follows ${label}`)
  return m[1] as string
}

/** Throws-with-code helper: `fn` must throw a BitwrkError with `code`. */
function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isBitwrkError(e) && e.code === code, `expected ${code}`)
}

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isBitwrkError(e), String(e))
    assert.equal(e.code, code, e.message)
    return true
  })
}

/** The texture scene of the spec's "Work with an asset" vector. */
const VECTOR_SCENE = {
  camera: { position: [0, 1, -3], lookAt: [0, 0, 0] },
  objects: [{ type: 'plane', point: [0, 0, 0], normal: [0, 1, 0], material: { type: 'texture', size: 0.5 } }],
  lights: [{ position: [0, 5, -5] }]
}
const VECTOR_TILE = { x: 1, y: 0, w: 2, h: 2 }

describe('demo/asset (RAYS-10 … RAYS-12)', () => {
  describe('vectors of protocol/spec/demo-article.md', () => {
    it('generates the asset bytes of RAYS-12 (10 bytes, 1 MiB, 64 MiB, odd length)', () => {
      const m = /seed 1, 10 bytes: `([0-9a-f]+)`/.exec(VECTORS)
      assert.ok(m !== null)
      assert.equal(Buffer.from(generateAsset(1, 10)).toString('hex'), m[1])
      // byte 0 … 3 are mix32(1) = 0x688990c0 little-endian (RAYS-6's vector)
      assert.equal(Buffer.from(generateAsset(1, 4)).readUInt32LE(0), mix32(1))
      assert.equal(sha(generateAsset(1, 2 ** 20)), digestAfter('1 MiB (1048576 bytes)'))
      assert.equal(sha(generateAsset(1, 64 * 2 ** 20)), digestAfter('64 MiB (the `swarm`'))
      assert.equal(sha(generateAsset(7, 1000003)), digestAfter('seed 7, 1000003 bytes'))
      // a prefix of a longer asset is the shorter asset
      assert.deepEqual(generateAsset(7, 1001), generateAsset(7, 1000003).subarray(0, 1001))
    })

    it('picks the texel of RAYS-5.4', () => {
      const m = /i = 2, j = −1 \(2\^32 − 1\): `h = 0x([0-9a-f]+)`, texel (\d+) of 10/.exec(VECTORS)
      assert.ok(m !== null)
      const h = mix32(mix32(2) ^ (-1 >>> 0))
      assert.equal(h, Number.parseInt(m[1] as string, 16))
      assert.equal(h % 10, Number(m[2]))
    })

    it('encodes work with an asset canonically, with its key and size (RAYS-10), and renders its tile', () => {
      const asset = generateAsset(1, 30)
      const block = /603-byte text\s+```\s+(\{.*\})\s+```/s.exec(VECTORS)
      assert.ok(block !== null)
      const work = encodeWork({
        scene: VECTOR_SCENE,
        width: 4,
        height: 2,
        tile: VECTOR_TILE,
        samples: 1,
        asset: assetRefOf(asset)
      })
      assert.equal(utf8(work), block[1])
      assert.equal(work.length, 603)
      assert.equal(sha(work), digestAfter('is the 603-byte text'))
      assert.deepEqual(decodeWork(work).asset, assetRefOf(asset))
      const tile = decodePng(renderWork(work, asset))
      assert.equal(sha(tile.data), digestAfter("its tile's RGBA"))
    })

    it("renders the testnet's asset tile of the spec", () => {
      const asset = generateAsset(1, 2 ** 20)
      const work = encodeWork({
        scene: ASSET_SCENE_JSON,
        width: 320,
        height: 240,
        tile: { x: 80, y: 60, w: 80, h: 60 },
        samples: 4,
        asset: assetRefOf(asset)
      })
      assert.equal(work.length, 1268)
      assert.equal(sha(work), digestAfter('1 MiB (work SHA-256'))
      assert.equal(sha(renderTile(decodeWork(work), asset).data), digestAfter('1268 bytes): pixels'))
    })
  })

  describe('work with an asset', () => {
    const asset = generateAsset(3, 3000)
    const ref = assetRefOf(asset)
    const base = { width: 32, height: 24, tile: { x: 0, y: 0, w: 32, h: 24 }, samples: 1 }

    it('leaves work without an asset byte for byte as before (no asset field)', () => {
      const w = utf8(encodeWork({ ...base, scene: DEFAULT_SCENE_JSON }))
      assert.ok(!w.includes('"asset"'))
      assert.deepEqual(Object.keys(decodeWork(new TextEncoder().encode(w))).includes('asset'), false)
    })

    it('shows the asset: another asset of the same size gives other pixels, the same asset the same', () => {
      const work = decodeWork(encodeWork({ ...base, scene: ASSET_SCENE_JSON, asset: ref }))
      const other = generateAsset(4, 3000)
      const a = renderTile(work, asset)
      assert.ok(imagesEqual(a, renderTile(work, Uint8Array.from(asset))))
      assert.ok(!imagesEqual(a, renderTile(work, other)), 'another asset changes the floor')
      // and the floor is not the checker of the default scene
      assert.ok(!imagesEqual(a, renderTile(decodeWork(encodeWork({ ...base, scene: DEFAULT_SCENE_JSON })))))
    })

    it('refuses a texture without an asset and an asset without a texture (DEMO_BAD_WORK)', () => {
      throwsCode(() => encodeWork({ ...base, scene: ASSET_SCENE_JSON }), DemoCode.badWork)
      throwsCode(() => encodeWork({ ...base, scene: DEFAULT_SCENE_JSON, asset: ref }), DemoCode.badWork)
    })

    it('checks the asset reference with its documented codes (hostile table)', () => {
      const cases: [unknown, string][] = [
        [null, DemoCode.badWork],
        ['x', DemoCode.badWork],
        [[ref.key, ref.size], DemoCode.badWork],
        [{ key: ref.key }, DemoCode.badWork],
        [{ size: 3 }, DemoCode.badWork],
        [{ ...ref, extra: 1 }, DemoCode.badWork],
        [{ key: ref.key.toUpperCase(), size: 3 }, DemoCode.badWork],
        [{ key: ref.key.slice(1), size: 3 }, DemoCode.badWork],
        [{ key: `${ref.key}00`, size: 3 }, DemoCode.badWork],
        [{ key: 7, size: 3 }, DemoCode.badWork],
        [{ key: ref.key, size: 2 }, DemoCode.badWork],
        [{ key: ref.key, size: 3.5 }, DemoCode.badWork],
        [{ key: ref.key, size: '30' }, DemoCode.badWork],
        [{ key: ref.key, size: -1 }, DemoCode.badWork],
        [{ key: ref.key, size: Number.NaN }, DemoCode.badWork],
        [{ key: ref.key, size: 2 ** 60 }, DemoCode.badWork],
        [{ key: ref.key, size: ASSET_LIMITS.maxBytes + 1 }, DemoCode.assetTooLarge]
      ]
      for (const [value, code] of cases) throwsCode(() => checkAssetRef(value), code)
      assert.deepEqual(checkAssetRef({ key: ref.key, size: ASSET_LIMITS.maxBytes }), {
        key: ref.key,
        size: ASSET_LIMITS.maxBytes
      })
      // through the work decoder, as a seller meets it
      const text = utf8(encodeWork({ ...base, scene: ASSET_SCENE_JSON, asset: ref }))
      const tooLarge = text.replace(`"size":${ref.size}`, `"size":${ASSET_LIMITS.maxBytes + 1}`)
      const v = validateWork(new TextEncoder().encode(tooLarge))
      assert.deepEqual(v, { result: 'reject', code: DemoCode.assetTooLarge })
      const parsed = JSON.parse(text) as Record<string, unknown>
      const reordered = clone({ asset: { size: ref.size, key: ref.key }, ...parsed })
      // keys out of canonical order in the asset object: not canonical
      const bytes = new TextEncoder().encode(
        JSON.stringify(reordered).replace(
          `"asset":{"key":"${ref.key}","size":${ref.size}}`,
          `"asset":{"size":${ref.size},"key":"${ref.key}"}`
        )
      )
      assert.notEqual(validateWork(bytes).result, 'accept')
    })

    it('renders only with the asset the work names (size, then hash)', () => {
      const work = decodeWork(encodeWork({ ...base, scene: ASSET_SCENE_JSON, asset: ref }))
      throwsCode(() => renderChecked(work), DemoCode.assetUnavailable)
      throwsCode(() => renderChecked(work, asset.subarray(1)), DemoCode.assetWrongSize)
      throwsCode(() => renderChecked(work, new Uint8Array(asset.length + 1)), DemoCode.assetWrongSize)
      const flipped = Uint8Array.from(asset)
      flipped[1234] = (flipped[1234] as number) ^ 1
      throwsCode(() => renderChecked(work, flipped), DemoCode.assetWrongHash)
      assert.ok(decodePng(renderChecked(work, asset)).width === 32)
    })
  })

  describe('fetchAsset from the node API (RAYS-11)', () => {
    const asset = generateAsset(5, 200_000)
    const ref = assetRefOf(asset)
    let server: Server
    let url: string
    let handler: (req: IncomingMessage, res: ServerResponse) => void
    /** Bytes the last answer wrote before the client went away. */
    let written = 0

    before(async () => {
      server = createServer((req, res) => handler(req, res))
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    })

    /** Answers with `body`, in 16 KiB writes without content-length (chunked), or with `length`. */
    function serve(body: Uint8Array, length?: number): void {
      handler = (_req, res) => {
        written = 0
        res.writeHead(200, length === undefined ? {} : { 'content-length': String(length) })
        let at = 0
        const pump = (): void => {
          while (at < body.length) {
            const part = body.subarray(at, at + 16384)
            at += part.length
            written += part.length
            if (!res.write(part)) {
              res.once('drain', pump)
              return
            }
          }
          res.end()
        }
        res.on('error', () => {})
        pump()
      }
    }

    it('gets the file by key from GET <api>/file/<key>, with the token when given', async () => {
      let seen: { url?: string; auth?: string } = {}
      const inner = (res: ServerResponse): void => {
        res.writeHead(200, { 'content-length': String(asset.length) })
        res.end(asset)
      }
      handler = (req, res) => {
        seen = { url: req.url ?? '', auth: req.headers.authorization ?? '' }
        inner(res)
      }
      assert.deepEqual(await fetchAsset(ref, { url: `${url}/`, token: 'tok' }), asset)
      assert.deepEqual(seen, { url: `/file/${ref.key}`, auth: 'Bearer tok' })
      serve(asset)
      assert.deepEqual(await fetchAsset(ref, { url }), asset)
    })

    it('stops reading at the first byte beyond the size the work names (DEMO_ASSET_WRONG_SIZE)', async () => {
      const huge = new Uint8Array(64 * 2 ** 20)
      huge.set(asset)
      serve(huge)
      await rejectsCode(fetchAsset(ref, { url }), DemoCode.assetWrongSize)
      // the worker went away long before the 64 MiB were written
      assert.ok(written < 16 * 2 ** 20, `the server wrote ${written} bytes`)
      serve(asset.subarray(0, asset.length - 1))
      await rejectsCode(fetchAsset(ref, { url }), DemoCode.assetWrongSize)
      serve(asset, asset.length + 1)
      await rejectsCode(fetchAsset(ref, { url }), DemoCode.assetWrongSize)
    })

    it('refuses bytes of the right size that do not hash to the key (DEMO_ASSET_WRONG_HASH)', async () => {
      const wrong = Uint8Array.from(asset)
      wrong[0] = (wrong[0] as number) ^ 0x80
      serve(wrong, wrong.length)
      await rejectsCode(fetchAsset(ref, { url }), DemoCode.assetWrongHash)
    })

    it('reports a missing API, a refusal, an unreachable node and the deadline as DEMO_ASSET_UNAVAILABLE', async () => {
      await rejectsCode(fetchAsset(ref, undefined), DemoCode.assetUnavailable)
      handler = (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ code: 'CHUNK_NO_PROVIDERS', message: 'no provider\n<evil>' }))
      }
      await assert.rejects(fetchAsset(ref, { url }), (e: unknown) => {
        assert.ok(isBitwrkError(e, DemoCode.assetUnavailable))
        assert.match(e.message, /404 CHUNK_NO_PROVIDERS/)
        assert.ok(!e.message.includes('evil'))
        return true
      })
      handler = (_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ code: 'lower case\nspoof' }))
      }
      await assert.rejects(fetchAsset(ref, { url }), (e: unknown) => {
        assert.ok(isBitwrkError(e, DemoCode.assetUnavailable))
        assert.ok(!e.message.includes('spoof'))
        return true
      })
      // a closed port
      const probe = createServer()
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()))
      const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`
      await new Promise<void>((r) => probe.close(() => r()))
      await rejectsCode(fetchAsset(ref, { url: closed }), DemoCode.assetUnavailable)
      // an answer that never ends
      handler = (_req, res) => {
        res.writeHead(200)
        res.write(asset.subarray(0, 10))
      }
      await rejectsCode(fetchAsset(ref, { url }, { timeoutMs: 300 }), DemoCode.assetUnavailable)
    })
  })

  describe('the worker program with an asset (RAYS-1, RAYS-11)', () => {
    const CLI = fileURLToPath(new URL('../../node/demo/worker-cli.js', import.meta.url))
    const asset = generateAsset(9, 5000)
    const ref = assetRefOf(asset)
    const work = encodeWork({
      scene: ASSET_SCENE_JSON,
      width: 24,
      height: 16,
      tile: { x: 4, y: 4, w: 12, h: 8 },
      samples: 1,
      asset: ref
    })
    let server: Server
    let url: string
    let body: Uint8Array = asset

    before(async () => {
      server = createServer((req, res) => {
        if (req.url !== `/file/${ref.key}`) {
          res.writeHead(404).end()
          return
        }
        res.writeHead(200, { 'content-length': String(body.length) })
        res.end(body)
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    })

    function run(
      env: Record<string, string>
    ): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
      return new Promise((resolve, reject) => {
        const clean = { ...process.env }
        delete clean[NODE_API_ENV]
        delete clean[NODE_TOKEN_ENV]
        const child = spawn(process.execPath, [CLI], {
          stdio: ['pipe', 'pipe', 'pipe'],
          timeout: 20_000,
          env: { ...clean, ...env }
        })
        const out: Buffer[] = []
        let err = ''
        child.stdout.on('data', (b: Buffer) => out.push(b))
        child.stderr.on('data', (b: Buffer) => {
          err += b.toString()
        })
        child.on('error', reject)
        child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }))
        child.stdin.end(work)
      })
    }

    it('fetches the asset from BITWRK_NODE_API and renders the tile as this process does', async () => {
      body = asset
      const r = await run({ [NODE_API_ENV]: url })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(imagesEqual(decodePng(new Uint8Array(r.stdout)), decodePng(renderWork(work, asset))))
    })

    it('exits 2 with one line for a wrong asset, 3 when it cannot get one, printing nothing on stdout', async () => {
      body = generateAsset(10, 5000)
      let r = await run({ [NODE_API_ENV]: url })
      assert.equal(r.code, 2)
      assert.match(r.stderr, /^DEMO_ASSET_WRONG_HASH: [^\n]*\n$/)
      assert.equal(r.stdout.length, 0)
      body = asset.subarray(1)
      r = await run({ [NODE_API_ENV]: url })
      assert.equal(r.code, 2)
      assert.match(r.stderr, /^DEMO_ASSET_WRONG_SIZE: /)
      r = await run({})
      assert.equal(r.code, 3)
      assert.match(r.stderr, /^DEMO_ASSET_UNAVAILABLE: [^\n]*BITWRK_NODE_API[^\n]*\n$/)
      assert.equal(r.stdout.length, 0)
    })
  })
})
