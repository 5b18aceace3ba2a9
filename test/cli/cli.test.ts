import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  assetRefOf,
  DEFAULT_SCENE_JSON,
  decodeWork,
  encodeWork,
  generateAsset,
  renderWork
} from '../../node/demo/index.js'
import { Identity } from '../../protocol/identity/index.js'
import { pool, type RunResult, runCli } from './run.js'

/** Original vectors (notes/bitwrk-original.md, test vectors A and B). */
const V = {
  addr13: '13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co',
  sigTest: 'IJlJB/iYZ/j/Edh2EBLrHfBD5E1FF10Gf0QuS/jZWsHzHswQSxTRCBNQ7oiB939COu53jfOOuBe+tW8wJ80WXRs=',
  sigTest2: 'H9i6klOr/QYanX+0KGFBImAJ/g4JMqqjFvA+4+/QnCk0WorcBvgll378N3cmwKNAfSpEIDjT5/xf4bSt/tnNn9A=',
  highSDoc:
    'article=fnord&type=buy&price=mBTC1.00&address=13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co&nonce=ab934e9f221e5b64595a24e3343600f1',
  highSSig: 'IJcnLRN4oz9dAL0FSjEUSDU3uYml22+7GomNfXaj3cydiAuqn4JvKak3lvNw8C7TkvKMW2oqwPj85VeHYjwYiNw=',
  french: "C'est par mon ordre et pour le bien de l'Etat que le porteur du présent a fait ce qu'il a fait.",
  addr17: '17mDAmveV5wBwxajBsY7g1trbMW1DVWcgL',
  sigFrench: 'HDTbD+paOyf7BJ3Fwlvu3Ul+goCQqZF7mfijfva5CkX6NpXrKN7wi9O/MQ/aEWFcXVrSBQXYyTb4FuvPdKn0gmw=',
  wifC: 'L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSu',
  addrC: '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8',
  wifU: '5KJvsngHeMpm884wtkJNzQGaCErckhHJBGFsvd3VyK5qMZXj3hS',
  addrU: '1JwSSubhmg6iPtRjtyqhUYYH7bZg3Lfy1T',
  badChecksum: '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMx'
}

/** Asserts the shape of an expected error: exit code, exactly one line on stderr, no stack. */
function assertOneLineError(r: RunResult, code: number, errorCode: string | undefined, label: string): void {
  assert.equal(r.code, code, `${label}: exit code (stderr: ${r.stderr})`)
  assert.equal(r.stdout, '', `${label}: stdout`)
  assert.match(r.stderr, /^bitwrk-node[^\n]*\n$/, `${label}: one line on stderr: ${JSON.stringify(r.stderr)}`)
  assert.doesNotMatch(r.stderr, /\bat [^\n]*:\d+:\d+/, `${label}: no stack trace`)
  if (errorCode !== undefined) assert.ok(r.stderr.includes(`[${errorCode}]`), `${label}: ${r.stderr}`)
}

/** `key: value` lines of a command's output. */
function fields(stdout: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of stdout.trimEnd().split('\n')) {
    const i = line.indexOf(': ')
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 2)
  }
  return out
}

/** The last line of `stdout`. */
function lastLine(stdout: string): string {
  return stdout.trimEnd().split('\n').at(-1) ?? ''
}

/** Flips one Base64 character in the middle, keeping the encoding canonical and 65 bytes. */
function tamper(sig: string): string {
  const i = 40
  return sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1)
}

describe('cli', () => {
  let tmp: string
  let env: Record<string, string>

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'bitwrk-cli-'))
    // HOME inside the temp dir: the default data dir can never be the user's.
    env = { HOME: join(tmp, 'home') }
  })

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  describe('identity', () => {
    it('creates a key file 0600 in a new 0700 directory and shows the same identity', async () => {
      const dir = join(tmp, 'a', 'data')
      const created = await runCli(['identity', 'new', '--data-dir', dir], env)
      assert.equal(created.code, 0, created.stderr)
      assert.equal(created.stderr, '')
      const f = fields(created.stdout)
      assert.match(f['address'] ?? '', /^1[1-9A-HJ-NP-Za-km-z]{25,33}$/)
      assert.match(f['peer id'] ?? '', /^16Uiu2/)
      assert.equal(f['key file'], join(dir, 'privatekey.wif'))
      assert.equal((await stat(dir)).mode & 0o777, 0o700)
      assert.equal((await stat(join(dir, 'privatekey.wif'))).mode & 0o777, 0o600)
      const wif = await readFile(join(dir, 'privatekey.wif'), 'utf8')
      assert.match(wif, /^[KL][1-9A-HJ-NP-Za-km-z]{51}$/, 'compressed WIF without newline')
      const id = Identity.fromWif(wif)
      assert.equal(id.address, f['address'])
      assert.equal(id.peerId, f['peer id'])

      const shown = await runCli(['identity', 'show', `--data-dir=${dir}`], env)
      assert.equal(shown.code, 0, shown.stderr)
      assert.deepEqual(fields(shown.stdout), f)
    })

    it('refuses to overwrite an existing key file', async () => {
      const dir = join(tmp, 'data')
      assert.equal((await runCli(['identity', 'new', '--data-dir', dir], env)).code, 0)
      const before = await readFile(join(dir, 'privatekey.wif'), 'utf8')
      assertOneLineError(
        await runCli(['identity', 'new', '--data-dir', dir], env),
        1,
        'STORE_KEY_EXISTS',
        'again'
      )
      assert.equal(await readFile(join(dir, 'privatekey.wif'), 'utf8'), before)
    })

    it('refuses a key file that group or others can access', async () => {
      const dir = join(tmp, 'data')
      assert.equal((await runCli(['identity', 'new', '--data-dir', dir], env)).code, 0)
      for (const mode of [0o644, 0o640, 0o604, 0o620]) {
        await chmod(join(dir, 'privatekey.wif'), mode)
        assertOneLineError(
          await runCli(['identity', 'show', '--data-dir', dir], env),
          1,
          'STORE_KEY_PERMISSIONS',
          mode.toString(8)
        )
      }
      await chmod(join(dir, 'privatekey.wif'), 0o400)
      assert.equal((await runCli(['identity', 'show', '--data-dir', dir], env)).code, 0)
    })

    it('finds the data directory through BITWRK_DATA_DIR, else under HOME', async () => {
      const viaEnv = join(tmp, 'env-dir')
      const a = await runCli(['identity', 'new'], { ...env, BITWRK_DATA_DIR: viaEnv })
      assert.equal(a.code, 0, a.stderr)
      assert.equal(fields(a.stdout)['key file'], join(viaEnv, 'privatekey.wif'))
      const b = await runCli(['identity', 'new'], env)
      assert.equal(b.code, 0, b.stderr)
      assert.equal(fields(b.stdout)['key file'], join(tmp, 'home', '.bitwrk-node', 'privatekey.wif'))
      // --data-dir wins over the environment.
      const c = await runCli(['identity', 'show', '--data-dir', viaEnv], {
        ...env,
        BITWRK_DATA_DIR: join(tmp, 'x')
      })
      assert.equal(fields(c.stdout)['address'], fields(a.stdout)['address'])
    })

    it('reports a missing, corrupt or unreachable key file in one line', async () => {
      const dir = join(tmp, 'data')
      assertOneLineError(
        await runCli(['identity', 'show', '--data-dir', dir], env),
        1,
        'STORE_KEY_MISSING',
        'missing'
      )
      await mkdir(dir, { mode: 0o700 })
      await writeFile(join(dir, 'privatekey.wif'), 'not a wif key', { mode: 0o600 })
      const corrupt = await runCli(['identity', 'show', '--data-dir', dir], env)
      assertOneLineError(corrupt, 1, 'STORE_KEY_CORRUPT', 'corrupt')
      assert.ok(!corrupt.stderr.includes('not a wif key'), 'the content is not echoed')
      // A data "directory" that is a file: an operating-system error, still one line.
      const file = join(tmp, 'plain-file')
      await writeFile(file, '')
      assertOneLineError(
        await runCli(['identity', 'new', '--data-dir', file], env),
        1,
        undefined,
        'not a dir'
      )
      assertOneLineError(
        await runCli(['identity', 'new', '--data-dir', join(file, 'x')], env),
        1,
        undefined,
        'under a file'
      )
      // Node 20's recursive mkdir spins forever on this (ENOENT with an existing parent).
      if (existsSync('/proc/self'))
        assertOneLineError(
          await runCli(['identity', 'new', '--data-dir', '/proc/bitwrk-x/y'], env),
          1,
          undefined,
          '/proc'
        )
    })
  })

  describe('sign and verify', () => {
    it('verifies the original vectors', async () => {
      const cases: [string[], number, string][] = [
        [[V.addr13, V.sigTest, 'test'], 0, 'valid'],
        [[V.addr13, V.sigTest2, 'test2'], 0, 'valid'],
        [[V.addr17, V.sigFrench, V.french], 0, 'valid'],
        [[V.addr13, V.highSSig, V.highSDoc], 0, 'valid'],
        [[V.addrU, V.sigTest, 'test'], 1, 'invalid'],
        [[V.addr13, V.sigTest, 'test2'], 1, 'invalid']
      ]
      const results = await pool(
        cases.map(
          ([args]) =>
            () =>
              runCli(['verify', ...args], env)
        ),
        2
      )
      cases.forEach(([args, code, out], i) => {
        const r = results[i] as RunResult
        assert.equal(r.code, code, `${args[2]}: ${r.stderr}`)
        assert.equal(r.stdout, `${out}\n`)
        assert.equal(r.stderr, '')
      })
    })

    it('signs with a WIF and verifies the signature; a tampered message or signature is invalid', async () => {
      for (const [wif, address] of [
        [V.wifC, V.addrC],
        [V.wifU, V.addrU]
      ] as const) {
        const signed = await runCli(['sign', '--wif', wif, 'hello bitwrk'], env)
        assert.equal(signed.code, 0, signed.stderr)
        assert.equal(fields(signed.stdout)['address'], address)
        const sig = lastLine(signed.stdout)
        assert.match(sig, /^[A-Za-z0-9+/]{86}[AEIMQUYcgkosw048]=$/)
        const [ok, badMsg, badSig] = await pool(
          [
            () => runCli(['verify', address, sig, 'hello bitwrk'], env),
            () => runCli(['verify', address, sig, 'hello bitwrk!'], env),
            () => runCli(['verify', address, tamper(sig), 'hello bitwrk'], env)
          ],
          2
        )
        assert.deepEqual([ok?.code, ok?.stdout], [0, 'valid\n'])
        assert.deepEqual([badMsg?.code, badMsg?.stdout], [1, 'invalid\n'])
        assert.deepEqual([badSig?.code, badSig?.stdout], [1, 'invalid\n'])
      }
    })

    it('signs with the key of the data directory and handles messages that start with a dash', async () => {
      const dir = join(tmp, 'data')
      const created = await runCli(['identity', 'new', '--data-dir', dir], env)
      const address = fields(created.stdout)['address'] as string
      const signed = await runCli(['sign', '--data-dir', dir, '--', '-1 ünïcødé €'], env)
      assert.equal(signed.code, 0, signed.stderr)
      assert.equal(fields(signed.stdout)['address'], address)
      const r = await runCli(['verify', '--', address, lastLine(signed.stdout), '-1 ünïcødé €'], env)
      assert.deepEqual([r.code, r.stdout], [0, 'valid\n'])
    })

    it('answers help with exit 0', async () => {
      for (const args of [
        ['help'],
        ['--help'],
        ['verify', '--help'],
        ['sign', '--help'],
        ['identity', '--help']
      ]) {
        const r = await runCli(args, env)
        assert.equal(r.code, 0, args.join(' '))
        assert.match(r.stdout, /usage: bitwrk-node/)
      }
    })
  })

  describe('demo (issue 12.13)', () => {
    it('writes the canonical work of a tile and renders a work file to the tile a seller returns', async () => {
      const w = await runCli(
        ['demo', 'work', '--tile', '8,4,16,12', '--width', '32', '--height', '24', '--samples', '1'],
        env
      )
      assert.equal(w.code, 0, w.stderr)
      const work = new TextEncoder().encode(w.stdout)
      const expected = encodeWork({
        scene: DEFAULT_SCENE_JSON,
        width: 32,
        height: 24,
        samples: 1,
        tile: { x: 8, y: 4, w: 16, h: 12 }
      })
      assert.deepEqual(work, expected)
      assert.equal(decodeWork(work).tile.w, 16)
      // without options: the testnet's image, whole, as one tile
      const whole = await runCli(['demo', 'work', '--out', join(tmp, 'whole.json')], env)
      assert.equal(whole.code, 0, whole.stderr)
      const d = decodeWork(await readFile(join(tmp, 'whole.json')))
      assert.deepEqual([d.width, d.height, d.samples, d.tile], [320, 240, 4, { x: 0, y: 0, w: 320, h: 240 }])
      const file = join(tmp, 'work.json')
      await writeFile(file, work)
      const r = await runCli(['demo', 'render', file, '--out', join(tmp, 'tile.png')], env)
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(new Uint8Array(await readFile(join(tmp, 'tile.png'))), renderWork(work))
    })

    it('generates an asset, references it by key in the work and renders with it (RAYS-10 … RAYS-12)', async () => {
      const assetFile = join(tmp, 'asset.bin')
      const a = await runCli(['demo', 'asset', '--mib', '0.01', '--seed', '3', '--out', assetFile], env)
      assert.equal(a.code, 0, a.stderr)
      const asset = new Uint8Array(await readFile(assetFile))
      assert.deepEqual(asset, generateAsset(3, Math.round(0.01 * 2 ** 20)))
      const w = await runCli(
        [
          'demo',
          'work',
          '--tile',
          '0,0,16,12',
          '--width',
          '16',
          '--height',
          '12',
          '--samples',
          '1',
          '--asset',
          assetFile
        ],
        env
      )
      assert.equal(w.code, 0, w.stderr)
      const work = new TextEncoder().encode(w.stdout)
      assert.deepEqual(decodeWork(work).asset, assetRefOf(asset))
      const file = join(tmp, 'asset-work.json')
      await writeFile(file, work)
      const r = await runCli(['demo', 'render', file, '--asset', assetFile, '--out', join(tmp, 'a.png')], env)
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(new Uint8Array(await readFile(join(tmp, 'a.png'))), renderWork(work, asset))
      // without the asset, or with another file, nothing is rendered
      const none = await runCli(['demo', 'render', file, '--out', join(tmp, 'b.png')], env)
      assertOneLineError(none, 1, 'DEMO_ASSET_UNAVAILABLE', 'no asset')
      await writeFile(join(tmp, 'other.bin'), asset.subarray(1))
      const other = await runCli(['demo', 'render', file, '--asset', join(tmp, 'other.bin')], env)
      assertOneLineError(other, 1, 'DEMO_ASSET_WRONG_SIZE', 'wrong asset')
      assert.equal(existsSync(join(tmp, 'b.png')), false)
    })

    it('refuses work outside the limits with the demo code, in one line', async () => {
      const big = await runCli(['demo', 'work', '--tile', '0,0,400,10'], env)
      assertOneLineError(big, 1, 'DEMO_BAD_TILE', 'tile outside the image')
      await writeFile(join(tmp, 'bad.json'), '{"not":"work"}')
      const bad = await runCli(['demo', 'render', join(tmp, 'bad.json'), '--out', join(tmp, 'x.png')], env)
      assertOneLineError(bad, 1, 'DEMO_BAD_WORK', 'bad work')
      assert.equal(existsSync(join(tmp, 'x.png')), false)
    })
  })

  describe('bad arguments', () => {
    const sig = V.sigTest
    const a = V.addr13
    const sig64 = Buffer.alloc(64, 7).toString('base64')
    const CASES: [string[], string | undefined][] = [
      [[], undefined],
      [['frobnicate'], undefined],
      [['verify'], 'CLI_MISSING_ARGUMENT'],
      [['verify', a], 'CLI_MISSING_ARGUMENT'],
      [['verify', a, sig], 'CLI_MISSING_ARGUMENT'],
      [['verify', a, sig, 'test', 'extra'], 'CLI_EXTRA_ARGUMENT'],
      [['verify', '--bogus', a, sig, 'test'], 'CLI_UNKNOWN_FLAG'],
      [['verify', '-x', a, sig, 'test'], 'CLI_UNKNOWN_FLAG'],
      [['verify', a, sig, 'test', '--wif=x'], 'CLI_UNKNOWN_FLAG'],
      [['verify', 'not-an-address', sig, 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', V.badChecksum, sig, 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', '', sig, 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', a, 'not base64!', 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', a, sig.slice(4), 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', a, sig.replace(/=$/, ''), 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', a, sig64, 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', a, `${sig}\n`, 'test'], 'CLI_BAD_ARGUMENT'],
      [['verify', a, '', 'test'], 'CLI_BAD_ARGUMENT'],
      [['sign'], 'CLI_MISSING_ARGUMENT'],
      [['sign', '--wif'], 'CLI_MISSING_VALUE'],
      [['sign', '--wif='], 'CLI_MISSING_VALUE'],
      [['sign', '--wif', 'garbage', 'msg'], 'CLI_BAD_ARGUMENT'],
      [['sign', '--wif', V.wifC], 'CLI_MISSING_ARGUMENT'],
      [['sign', '--wif', V.wifC, 'a', 'b'], 'CLI_EXTRA_ARGUMENT'],
      [['sign', '--wif', V.wifC, '--wif', V.wifC, 'a'], 'CLI_DUPLICATE_FLAG'],
      [['sign', '--wif', V.wifC, '--data-dir', '/nonexistent', 'a'], 'CLI_BAD_ARGUMENT'],
      [['sign', '--nope', 'a'], 'CLI_UNKNOWN_FLAG'],
      [['identity'], 'CLI_MISSING_ARGUMENT'],
      [['identity', 'frob'], 'CLI_BAD_ARGUMENT'],
      [['identity', 'show', 'extra'], 'CLI_EXTRA_ARGUMENT'],
      [['identity', 'show', '--data-dir'], 'CLI_MISSING_VALUE'],
      [['identity', 'show', '--verbose'], 'CLI_UNKNOWN_FLAG'],
      [['identity', '--help=yes'], 'CLI_BAD_ARGUMENT'],
      [['identity', '--__proto__', 'show'], 'CLI_UNKNOWN_FLAG'],
      [['identity', '--toString', 'show'], 'CLI_UNKNOWN_FLAG'],
      // issue 12.11: every command that talks to a daemon names it one way, never two
      [['status', '--api', 'http://127.0.0.1:9', '--data-dir', '/nonexistent'], 'CLI_BAD_ARGUMENT'],
      [['peers', '--api', 'ftp://127.0.0.1:9'], 'CLI_BAD_ARGUMENT'],
      [['mandate', 'list', '--api', 'not a url'], 'CLI_BAD_ARGUMENT'],
      [
        ['buy', 'net.bitwrk/rays/0', '/nonexistent', '--api', 'http://127.0.0.1:9', '--data-dir', '/d'],
        'CLI_BAD_ARGUMENT'
      ],
      [
        ['worker', '--article', 'a/b/0', '--exec', 'cat', '--api', 'http://127.0.0.1:9', '--data-dir', '/d'],
        'CLI_BAD_ARGUMENT'
      ],
      [['worker', '--demo', '--exec', 'cat'], 'CLI_BAD_ARGUMENT'],
      [['worker', '--article', 'a/b/0'], 'CLI_MISSING_ARGUMENT'],
      // issue 12.12: a price is checked before the daemon is asked
      [['mandate', 'grant', 'net.bitwrk/rays/0', 'BUY', '2 mBTC'], 'CLI_BAD_ARGUMENT'],
      [['buy', 'net.bitwrk/rays/0', '/nonexistent', '--max-price', 'mbtc 2'], 'CLI_BAD_ARGUMENT'],
      // issue 12.10: --timeout is whole seconds 1 … 86400
      [['buy', 'net.bitwrk/rays/0', '/nonexistent', '--timeout', '0'], 'CLI_BAD_ARGUMENT'],
      [['buy', 'net.bitwrk/rays/0', '/nonexistent', '--timeout', '86401'], 'CLI_BAD_ARGUMENT'],
      [['buy', 'net.bitwrk/rays/0', '/nonexistent', '--timeout', '1.5'], 'CLI_BAD_ARGUMENT'],
      // issue 12.13
      [['demo'], 'CLI_BAD_ARGUMENT'],
      [['demo', 'work', '--tile', '1,2,3'], 'CLI_BAD_ARGUMENT'],
      [['demo', 'work', '--width', '-3'], 'CLI_BAD_ARGUMENT'],
      [['demo', 'work', 'extra'], 'CLI_EXTRA_ARGUMENT'],
      [['demo', 'render', 'a', 'b'], 'CLI_EXTRA_ARGUMENT']
    ]

    it('exits 2 with one line on stderr for every malformed command line', async () => {
      const results = await pool(
        CASES.map(
          ([args]) =>
            () =>
              runCli(args, env)
        ),
        3
      )
      CASES.forEach(([args, code], i) => {
        assertOneLineError(results[i] as RunResult, 2, code, JSON.stringify(args).slice(0, 60))
      })
    })

    it('names the accepted money forms with an example, and the form meant (issue 12.12)', async () => {
      const r = await runCli(['mandate', 'grant', 'net.bitwrk/rays/0', 'SELL', '2 mBTC'], env)
      assertOneLineError(r, 2, 'CLI_BAD_ARGUMENT', 'reversed price')
      assert.ok(r.stderr.includes("the unit comes first, 'mBTC 2'"), r.stderr)
      assert.ok(r.stderr.includes("e.g. 'mBTC 2', 'BTC 0.002'"), r.stderr)
    })

    it('never echoes a bad WIF', async () => {
      const secretish = 'L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSv'
      const r = await runCli(['sign', '--wif', secretish, 'x'], env)
      assertOneLineError(r, 2, 'CLI_BAD_ARGUMENT', 'bad wif')
      assert.ok(!r.stderr.includes(secretish))
    })
  })
})
