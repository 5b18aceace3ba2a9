import assert from 'node:assert/strict'
import { manifestOfBytes } from '../../../cafs/manifest.js'
import type { Manifest } from '../../../cafs/types.js'
import {
  decodeFile,
  FileRepository,
  fileKeyOf,
  type KvController,
  StoreCode
} from '../../../node/store/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { BACKENDS, type Backend, T0 } from './helpers.js'

/** A small file's manifest, distinct per `seed`. */
function manifestOf(seed: number, size = 3000): Manifest {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7) & 0xff
  bytes[0] = seed & 0xff
  bytes[1] = seed >> 8
  return manifestOfBytes(bytes)
}

for (const makeBackend of BACKENDS) {
  const probe = makeBackend()
  describe(`node/store files (${probe.name})`, () => {
    let backend: Backend
    let kv: KvController
    beforeEach(async () => {
      backend = makeBackend()
      kv = await backend.open()
    })
    afterEach(async () => {
      await kv.close()
      await backend.cleanup()
    })

    it('remembers a manifest by its file key across a reopen, and keeps the first time of a repeat', async () => {
      const m = manifestOf(1)
      const files = new FileRepository(kv)
      assert.equal(await files.get(m.fileKey), undefined)
      assert.equal(await files.put(m, T0), 0)
      assert.equal(await files.put(m, T0 + 5), 0)
      await kv.close()
      kv = await backend.reopen()
      const again = new FileRepository(kv)
      assert.deepEqual(await again.get(m.fileKey), m)
      const raw = await kv.get(fileKeyOf(m.fileKey))
      assert.equal(decodeFile(fileKeyOf(m.fileKey), raw!).addedMs, T0)
    })

    it('forgets the oldest files beyond its bound, also when the count comes from a reopen', async () => {
      const files = new FileRepository(kv, 3)
      const ms = [1, 2, 3, 4, 5].map((s) => manifestOf(s))
      for (const [i, m] of ms.entries()) await files.put(m, T0 + i)
      for (const m of ms.slice(0, 2)) assert.equal(await files.get(m.fileKey), undefined)
      for (const m of ms.slice(2)) assert.deepEqual(await files.get(m.fileKey), m)
      await kv.close()
      kv = await backend.reopen()
      const again = new FileRepository(kv, 3)
      assert.equal(await again.put(manifestOf(6), T0 + 10), 1)
      assert.equal(await again.get(ms[2]!.fileKey), undefined)
      assert.deepEqual(await again.get(ms[3]!.fileKey), ms[3])
    })

    it('refuses bad keys, times and manifests with STORE_INVALID and writes nothing', async () => {
      const files = new FileRepository(kv)
      const m = manifestOf(7)
      await rejectsWithCode(async () => files.get(new Uint8Array(31)), StoreCode.INVALID)
      await rejectsWithCode(async () => files.put(m, -1), StoreCode.INVALID)
      const wrongSize = { ...m, size: m.size + 1 }
      await rejectsWithCode(async () => files.put(wrongSize, T0), StoreCode.INVALID)
      assert.equal(await files.get(m.fileKey), undefined)
    })

    it('reports a record that names another file, or a flipped bit, as STORE_CORRUPT', async () => {
      const files = new FileRepository(kv)
      const a = manifestOf(8)
      const b = manifestOf(9)
      await files.put(a, T0)
      const value = (await kv.get(fileKeyOf(a.fileKey)))!
      // a's record copied under b's key: the seal binds it to a's key
      await kv.batch([{ type: 'put', key: fileKeyOf(b.fileKey), value }])
      await rejectsWithCode(() => files.get(b.fileKey), StoreCode.CORRUPT)
      const flipped = Uint8Array.from(value)
      flipped[10] = (flipped[10] as number) ^ 1
      await kv.batch([{ type: 'put', key: fileKeyOf(a.fileKey), value: flipped }])
      await rejectsWithCode(() => files.get(a.fileKey), StoreCode.CORRUPT)
      // a put over the unreadable record replaces it
      await files.put(a, T0 + 1)
      assert.deepEqual(await files.get(a.fileKey), a)
    })
  })
}
