import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import {
  ASSET_SCENE_JSON,
  assetRefOf,
  checkAssetRef,
  DemoCode,
  decodeWork,
  encodeWork,
  fetchAsset,
  generateAsset,
  renderChecked
} from '../../node/demo/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { codesOf, FUZZ, hostileBytes, outcome, Tally } from './helpers.js'

/**
 * Hostile input around the demo article's assets (RAYS-10, RAYS-11): work items whose asset
 * reference is mutated, asset bytes that are not the named ones, and node answers of any status,
 * length and body to the worker's asset fetch. Every outcome is the right asset or a documented
 * `DEMO_*` code; no answer makes the worker read beyond the size the work names.
 */
describe('hostile input: demo assets (RAYS-10, RAYS-11)', () => {
  const asset = generateAsset(11, 60)
  const ref = assetRefOf(asset)
  const tile = { x: 0, y: 0, w: 4, h: 4 }
  const work = encodeWork({ scene: ASSET_SCENE_JSON, width: 8, height: 4, tile, samples: 1, asset: ref })
  const codes = codesOf(DemoCode)

  it('work with an asset and the asset bytes: decodeWork, checkAssetRef and renderChecked throw DEMO_* codes only', () => {
    const t = new Tally()
    const refs = fc.oneof(
      fc.anything(),
      fc.record({
        key: fc.oneof(fc.string(), fc.constant(ref.key)),
        size: fc.oneof(fc.integer(), fc.double())
      }),
      fc.record({ key: fc.stringMatching(/^[0-9a-f]{64}$/), size: fc.integer({ min: -5, max: 2 ** 29 }) })
    )
    fc.assert(
      fc.property(hostileBytes([work], 64), hostileBytes([asset], 64), refs, (w, a, r) => {
        t.add(outcome(() => checkAssetRef(r), codes, 'checkAssetRef'))
        let decoded: ReturnType<typeof decodeWork> | undefined
        const o = outcome(
          () => {
            decoded = decodeWork(w)
          },
          codes,
          'decodeWork'
        )
        t.add(o)
        if (decoded === undefined || decoded.asset === undefined) return
        const r2 = outcome(
          () => renderChecked(decoded as NonNullable<typeof decoded>, a),
          codes,
          'renderChecked'
        )
        t.add(`render ${r2}`)
        // only the named asset renders
        if (r2 === 'ok') assert.deepEqual(a, asset)
      }),
      FUZZ
    )
    for (const c of [DemoCode.assetWrongSize, DemoCode.assetWrongHash])
      assert.ok(t.counts.has(`render ${c}`), `${c} reached: ${t.toString()}`)
    assert.ok(t.codes() >= 5, t.toString())
  })

  describe("the node's answers to the asset fetch", () => {
    let server: Server
    let url: string
    let answer: { status: number; length: boolean; body: Uint8Array } = {
      status: 200,
      length: false,
      body: asset
    }

    before(async () => {
      server = createServer((_req, res) => {
        const a = answer
        const headers: Record<string, string> = {}
        if (a.length) headers['content-length'] = String(a.body.length)
        res.on('error', () => {})
        try {
          res.writeHead(a.status, headers)
          // in two writes, so that the worker can go away in the middle
          res.write(a.body.subarray(0, a.body.length >>> 1))
          res.end(a.body.subarray(a.body.length >>> 1))
        } catch {
          res.destroy()
        }
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    })

    it('1,000 answers of any status, length and body: the named asset or a DEMO_ASSET_* code', async () => {
      const assetCodes = new Set<string>([
        DemoCode.assetUnavailable,
        DemoCode.assetWrongSize,
        DemoCode.assetWrongHash
      ])
      const t = new Tally()
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(200, 200, 200, 200, 204, 206, 301, 404, 500),
          // with or without content-length (chunked); a wrong content-length: test/demo/asset.test.ts
          fc.boolean(),
          hostileBytes([asset, new Uint8Array(2000)], 128),
          async (status, length, body) => {
            answer = { status, length, body }
            try {
              const got = await fetchAsset(ref, { url }, { timeoutMs: 5000 })
              assert.deepEqual(got, asset)
              t.add('ok')
            } catch (err) {
              assert.ok(isBitwrkError(err), String(err))
              assert.ok(assetCodes.has(err.code), err.code)
              t.add(err.code)
            }
          }
        ),
        FUZZ
      )
      assert.ok(t.counts.has('ok'), t.toString())
      assert.equal(t.codes(), 3, t.toString())
    })
  })
})
