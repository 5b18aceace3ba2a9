import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAEMON_FILE_NAME, type Daemon, startDaemon } from '../../node/daemon/index.js'
import { waitFor } from '../../node/testing.js'
import { runCli } from '../cli/run.js'
import { sharedEntries } from '../node/store/helpers.js'
import {
  type CliProcess,
  type DaemonProcess,
  daemonFields,
  startCliProcess,
  startDaemonProcess,
  stopDaemonProcess
} from './helpers.js'

/** The repository (this file runs from dist/test/daemon/). */
const REPO = fileURLToPath(new URL('../../../', import.meta.url))
/** The repository's README. */
const README = join(REPO, 'README.md')

/** A command line split into words as /bin/sh would for these simple lines ('…' quotes only). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '')
}

/**
 * The commands of the README's "first hour" section, in order: the lines of its `sh` blocks
 * without their comments, split into words (`&&` splits a line into two commands).
 */
function firstHourCommands(readme: string): string[][] {
  const at = readme.indexOf('### The first hour')
  assert.ok(at >= 0, 'the README has a first-hour section')
  const section = readme.slice(at, readme.indexOf('\n### ', at + 1))
  const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n'))
  return lines
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l !== '')
    .flatMap((l) => l.split(' && ').map(words))
}

describe('cli/start (daemon subprocess)', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  const running: CliProcess[] = []
  const newDir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'bitwrk-daemon-'))
    dirs.push(d)
    return d
  }
  afterEach(async () => {
    for (const d of running.splice(0)) if (d.child.exitCode === null) d.child.kill('SIGKILL')
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  it('starts, answers status and peers, stops on SIGTERM with exit 0 and keeps its identity', async () => {
    const dir = await newDir()
    const env = { HOME: dir }
    const a = await startDaemonProcess(dir)
    running.push(a)
    assert.match(a.peerId, /^16Uiu2/)
    assert.match(a.api, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(a.listen.every((l) => l.startsWith('/ip4/127.0.0.1/tcp/') && l.endsWith(`/p2p/${a.peerId}`)))
    assert.ok(existsSync(join(dir, DAEMON_FILE_NAME)))

    const status = await runCli(['status', '--data-dir', dir, '--json'], env)
    assert.equal(status.code, 0, status.stderr)
    const s = JSON.parse(status.stdout) as {
      peerId: string
      peers: number
      services: Record<string, boolean>
    }
    assert.equal(s.peerId, a.peerId)
    assert.equal(s.peers, 0)
    assert.equal(s.services['sync'], true)
    const human = await runCli(['status', '--data-dir', dir], env)
    assert.equal(human.code, 0)
    assert.match(human.stdout, new RegExp(`peer id: ${a.peerId}`))
    const peers = await runCli(['peers', '--data-dir', dir, '--json'], env)
    assert.equal(peers.code, 0)
    assert.deepEqual(JSON.parse(peers.stdout), [])

    assert.equal(await stopDaemonProcess(a), 0)
    assert.match(a.stdout(), /^stopped$/m)
    assert.equal(existsSync(join(dir, DAEMON_FILE_NAME)), false)

    const again = await startDaemonProcess(dir)
    running.push(again)
    assert.equal(again.peerId, a.peerId)
    assert.equal(await stopDaemonProcess(again), 0)
  })

  it('a second daemon joins through --bootstrap and both list each other as peers', async () => {
    const [d1, d2] = [await newDir(), await newDir()]
    const a = await startDaemonProcess(d1)
    running.push(a)
    const b = await startDaemonProcess(d2, ['--bootstrap', a.listen[0] as string])
    running.push(b)
    const peersOf = async (dir: string): Promise<string[]> => {
      const r = await runCli(['peers', '--data-dir', dir, '--json'], { HOME: dir })
      return (JSON.parse(r.stdout) as { peerId: string }[]).map((p) => p.peerId)
    }
    let seen: string[] = []
    await waitFor(
      async () => {
        seen = await peersOf(d1)
        return seen.includes(b.peerId)
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'B at A' }
    )
    assert.ok((await peersOf(d2)).includes(a.peerId))
    assert.deepEqual(await Promise.all([stopDaemonProcess(b), stopDaemonProcess(a)]), [0, 0])
  })

  it('grants, lists and revokes mandates, and refuses a buy without a mandate, through the API', async () => {
    const dir = await newDir()
    const env = { HOME: dir }
    const a = await startDaemonProcess(dir)
    running.push(a)
    const g = await runCli(
      [
        'mandate',
        'grant',
        'net.bitwrk/rays/0',
        'BUY',
        'mBTC 2',
        '--trades',
        '3',
        '--json',
        '--data-dir',
        dir
      ],
      env
    )
    assert.equal(g.code, 0, g.stderr)
    const m = JSON.parse(g.stdout) as { id: number; side: string; price: string; tradesLeft: number }
    assert.deepEqual([m.side, m.tradesLeft], ['BUY', 3])
    const list = await runCli(['mandate', 'list', '--json', '--data-dir', dir], env)
    assert.deepEqual(
      (JSON.parse(list.stdout) as { id: number }[]).map((x) => x.id),
      [m.id]
    )
    const rv = await runCli(['mandate', 'revoke', String(m.id), '--data-dir', dir], env)
    assert.equal(rv.code, 0, rv.stderr)
    const empty = await runCli(['mandate', 'list', '--json', '--data-dir', dir], env)
    assert.deepEqual(JSON.parse(empty.stdout), [])
    const work = join(dir, 'work.bin')
    await writeFile(work, 'some work')
    const buy = await runCli(['buy', 'net.bitwrk/rays/0', work, '--data-dir', dir], env)
    assert.equal(buy.code, 1)
    assert.match(buy.stderr, /\[CLI_DAEMON_API_ERROR\]\n$/)
    assert.match(buy.stderr, /API_NO_MANDATE|MANDATE/)
    assert.equal(await stopDaemonProcess(a), 0)
  })

  it('serves an uploaded work at /file/<sha256> again after a restart (the file index is in the data directory)', async () => {
    const dir = await newDir()
    const a = await startDaemonProcess(dir)
    running.push(a)
    const article = 'net.bitwrk/test/0'
    const grant = await fetch(`${a.api}/api/v1/mandates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ article, side: 'BUY', price: 'mBTC 1', trades: 1 }),
      signal: AbortSignal.timeout(5_000)
    })
    assert.equal(grant.status, 201, await grant.text())
    const work = Buffer.from('a work nobody sells: the buy waits, the file is already known')
    const url = `${a.api}/file/${createHash('sha256').update(work).digest('hex')}`
    // the buy blocks (no seller); the work is indexed before it waits
    const buying = new AbortController()
    const buy = fetch(`${a.api}/buy/${article}`, { method: 'POST', body: work, signal: buying.signal }).catch(
      () => undefined
    )
    await waitFor(async () => (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status === 200, {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the uploaded work at /file'
    })
    buying.abort()
    await buy
    assert.equal(await stopDaemonProcess(a), 0)
    const again = await startDaemonProcess(dir)
    running.push(again)
    const r = await fetch(url.replace(a.api, again.api), { signal: AbortSignal.timeout(5_000) })
    assert.equal(r.status, 200)
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), work)
    const none = await fetch(`${again.api}/file/${'0'.repeat(64)}`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(none.status, 404)
    assert.equal(await stopDaemonProcess(again), 0)
  })

  it('repairs a data directory others can read with a warning line and restricts push URLs with --worker-allow', async () => {
    const dir = await newDir()
    await chmod(dir, 0o755)
    const a = await startDaemonProcess(dir, ['--worker-allow', '127.0.0.1:9000-9100,localhost:7000'])
    running.push(a)
    // stderr and stdout are separate pipes: the warning may arrive after the ready line.
    await waitFor(() => /"dirWas":"0755".*data directory was readable by group or others/.test(a.stderr()), {
      timeoutMs: 5_000,
      what: 'the permission warning on stderr'
    })
    assert.deepEqual(await sharedEntries(dir), [])
    const register = (pushurl: string): Promise<Response> =>
      fetch(`${a.api}/registerworker`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ id: 'w', article: 'net.bitwrk/rays/0', pushurl }).toString(),
        signal: AbortSignal.timeout(5_000)
      })
    for (const url of ['http://127.0.0.1:6379/', 'http://0x7f.1:6379/', 'http://localhost:9000/']) {
      const res = await register(url)
      assert.equal(res.status, 403, url)
      assert.equal(((await res.json()) as { detail?: string }).detail, 'WORKER_URL_FORBIDDEN', url)
    }
    const ok = await register('http://2130706433:9050/work')
    assert.equal(ok.status, 200)
    assert.equal(((await ok.json()) as { pushUrl: string }).pushUrl, 'http://127.0.0.1:9050/work')
    assert.equal(await stopDaemonProcess(a), 0)
    assert.deepEqual(await sharedEntries(dir), [])
    const bad = await runCli(['start', '--data-dir', dir, '--worker-allow', '127.0.0.1:9100-9000'], {
      HOME: dir
    })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /WORKER_ALLOW_INVALID|--worker-allow/)
    assert.match(bad.stderr, /\[CLI_BAD_ARGUMENT\]\n$/)
    assert.equal(bad.stderr.split('\n').length, 2)
  })

  it("runs the README's first hour as written: two daemons, a demo worker, mandates, demo work and a buy (issue 12)", async function () {
    this.timeout(180_000)
    const [home, seller, buyer] = [await newDir(), await newDir(), await newDir()]
    const env = { HOME: home }
    // `npx bitwrk-node` runs package.json's bin through the shell: executable as checked out,
    // whichever command built dist/ (tsc writes dist/cli/main.js without the executable bit)
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      bin: Record<string, string>
    }
    const bin = join(REPO, pkg.bin['bitwrk-node'] as string)
    const help = await new Promise<string>((resolve, reject) =>
      execFile(
        bin,
        ['help'],
        { env: { PATH: process.env['PATH'] ?? '', HOME: home }, timeout: 20_000 },
        (err, out) => (err === null ? resolve(out) : reject(err))
      )
    )
    assert.match(help, /^usage: bitwrk-node /)
    const commands = firstHourCommands(await readFile(README, 'utf8'))
    const ran: string[] = []
    let sellerNode: DaemonProcess | undefined
    let worker: CliProcess | undefined
    let buyOut = ''
    for (const cmd of commands) {
      const [head] = cmd
      const args = cmd
        .slice(2)
        .map((w) => (w === '/tmp/seller' ? seller : w === '/tmp/buyer' ? buyer : w))
        .map((w) => (w === 'SELLER_LISTEN_ADDRESS' ? (sellerNode?.listen[0] ?? w) : w))
      if (head === 'cmp') {
        // the README's check: the bought tile is the one rendered here
        const [a, b] = cmd.slice(1, 3).map((f) => join(home, f))
        assert.deepEqual(await readFile(a as string), await readFile(b as string))
        ran.push('cmp')
        continue
      }
      if (head === 'echo') continue
      assert.deepEqual([head, cmd[1]], ['npx', 'bitwrk-node'], cmd.join(' '))
      const [command, ...rest] = args
      ran.push(command as string)
      if (command === 'start') {
        // no fixed port: the README's daemons pick free ones
        assert.ok(rest.join(' ').includes('--api-port 0'), cmd.join(' '))
        const p = daemonFields(await startCliProcess(args, { home, cwd: home, ready: /^ready$/m }))
        running.push(p)
        sellerNode ??= p
      } else if (command === 'worker') {
        worker = await startCliProcess(args, { home, cwd: home, ready: /^worker .* registered for /m })
        running.push(worker)
      } else {
        const r = await runCli(args, env, { cwd: home, timeoutMs: 150_000 })
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
        if (command === 'buy') buyOut = r.stderr
      }
    }
    assert.deepEqual(ran, ['start', 'start', 'worker', 'mandate', 'mandate', 'demo', 'buy', 'demo', 'cmp'])
    // the buy showed its seller and ended with the result's size
    assert.ok(buyOut.includes(`seller ${sellerNode?.address}`), buyOut)
    assert.match(buyOut, /: done, \d+ bytes/)
    worker?.child.kill('SIGTERM')
    assert.equal(await worker?.exited, 0)
    assert.match(worker?.stdout() ?? '', /unregistered/)
    for (const d of running.splice(0)) assert.equal(await stopDaemonProcess(d), 0)
  })

  it('a worker, a mandate and a buy of an article the node did not follow make it follow it, also after a restart (WRK-11)', async function () {
    this.timeout(120_000)
    const article = 'net.bitwrk/first/0'
    const [s, b] = [await newDir(), await newDir()]
    const seller = await startDaemonProcess(s)
    running.push(seller)
    const buyer = await startDaemonProcess(b, ['--bootstrap', seller.listen[0] as string])
    running.push(buyer)
    const follows = async (dir: string): Promise<boolean> => {
      const r = await runCli(['status', '--data-dir', dir, '--json'], { HOME: dir })
      return (JSON.parse(r.stdout) as { articles: { article: string }[] }).articles.some(
        (a) => a.article === article
      )
    }
    assert.deepEqual([await follows(s), await follows(b)], [false, false])
    const worker = await startCliProcess(
      ['worker', '--article', article, '--exec', 'tr a-z A-Z', '--data-dir', s],
      { home: s, ready: /^the node now follows /m }
    )
    running.push(worker)
    assert.ok(worker.stdout().includes(`the node now follows ${article}`))
    const grant = async (dir: string, side: string, price: string): Promise<{ followed: boolean }> => {
      const r = await runCli(
        ['mandate', 'grant', article, side, price, '--trades', '3', '--json', '--data-dir', dir],
        {
          HOME: dir
        }
      )
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as { followed: boolean }
    }
    assert.equal((await grant(s, 'SELL', 'mBTC 1')).followed, false)
    assert.equal((await grant(b, 'BUY', 'mBTC 2')).followed, true)
    assert.deepEqual([await follows(s), await follows(b)], [true, true])
    const human = await runCli(['mandate', 'grant', article, 'BUY', 'mBTC 2', '--data-dir', b], { HOME: b })
    assert.doesNotMatch(human.stdout, /now follows/)
    await writeFile(join(b, 'work.txt'), 'render me')
    const buy = await runCli(
      ['buy', article, join(b, 'work.txt'), '--timeout', '100', '--data-dir', b],
      { HOME: b },
      {
        timeoutMs: 110_000
      }
    )
    assert.equal(buy.code, 0, buy.stderr)
    assert.equal(buy.stdout, 'RENDER ME')
    assert.ok(buy.stderr.includes(`seller ${seller.address}`), buy.stderr)
    // following is stored like the --articles subscriptions
    assert.equal(await stopDaemonProcess(buyer), 0)
    const again = await startDaemonProcess(b)
    running.push(again)
    assert.equal(await follows(b), true)
    worker.child.kill('SIGTERM')
    assert.equal(await worker.exited, 0)
    for (const d of [again, seller]) assert.equal(await stopDaemonProcess(d), 0)
  })

  it('refuses a buy without a mandate in one line, with no progress printed before it (issue 12.9)', async () => {
    const dir = await newDir()
    const a = await startDaemonProcess(dir)
    running.push(a)
    await writeFile(join(dir, 'work.bin'), 'some work')
    const buy = await runCli(['buy', 'net.bitwrk/rays/0', join(dir, 'work.bin'), '--data-dir', dir], {
      HOME: dir
    })
    assert.equal(buy.code, 1)
    assert.match(
      buy.stderr,
      /^bitwrk-node buy: 403 API_NO_MANDATE \(MANDATE_NOT_FOUND\): [^\n]*\[CLI_DAEMON_API_ERROR\]\n$/
    )
    assert.equal(await stopDaemonProcess(a), 0)
  })

  it('status without a running daemon and a bad flag fail with one line and a non-zero exit', async () => {
    const dir = await newDir()
    const r = await runCli(['status', '--data-dir', dir], { HOME: dir })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /\[CLI_DAEMON_NOT_RUNNING\]\n$/)
    assert.equal(r.stderr.split('\n').length, 2)
    const bad = await runCli(['start', '--data-dir', dir, '--api-port', 'x'], { HOME: dir })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /\[CLI_BAD_ARGUMENT\]\n$/)
  })
})

describe('api: bounded buys and following (daemon in process)', function () {
  this.timeout(60_000)
  let dir = ''
  let daemon: Daemon | undefined
  afterEach(async () => {
    await daemon?.stop()
    daemon = undefined
    await rm(dir, { recursive: true, force: true })
  })

  it('checks ?timeout= and ?ref= before anything, follows the article of an accepted buy, and ends with 504 API_NO_SELLER (API-21, WRK-11)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-buy-'))
    daemon = await startDaemon({ dataDir: dir, apiPort: 0 })
    const api = daemon.info.apiUrl
    const article = 'net.bitwrk/nobody/0'
    const json = async (
      path: string,
      init?: RequestInit
    ): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${api}${path}`, { ...init, signal: AbortSignal.timeout(30_000) })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const grant = await json('/api/v1/mandates', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ article, side: 'BUY', price: 'mBTC 1', trades: 5 })
    })
    assert.equal(grant.status, 201)
    assert.equal(grant.body['followed'], true)
    assert.ok(daemon.node.articles().includes(article))
    // a node that stopped following it (as one whose mandate predates WRK-11)
    await daemon.node.unfollow(article)
    const buy = (query: string) =>
      json(`/buy/${article}${query}`, { method: 'POST', body: 'work nobody sells' })
    for (const [query, detail] of [
      ['?timeout=0', 'API_BAD_TIMEOUT'],
      ['?timeout=86401', 'API_BAD_TIMEOUT'],
      ['?timeout=1e3', 'API_BAD_TIMEOUT'],
      ['?ref=a%20b', 'API_BAD_REF'],
      [`?ref=${'r'.repeat(65)}`, 'API_BAD_REF']
    ] as const) {
      const r = await buy(query)
      assert.deepEqual([r.status, r.body['code'], r.body['detail']], [400, 'API_BAD_REQUEST', detail], query)
    }
    // refused: nothing created, nothing followed, no trade taken
    assert.deepEqual((await json('/api/v1/activities')).body, [])
    assert.equal(daemon.node.articles().includes(article), false)
    const tradesLeft = async () =>
      ((await json('/api/v1/mandates')).body as unknown as { tradesLeft: number }[])[0]?.tradesLeft
    assert.equal(await tradesLeft(), 5)
    const started = Date.now()
    const r = await buy('?timeout=2&ref=my-buy.1')
    assert.deepEqual(
      [r.status, r.body['code'], r.body['detail']],
      [504, 'API_NO_SELLER', 'NODETRADE_NO_SELLER']
    )
    assert.match(String(r.body['message']), /^no seller found within 2 s/)
    assert.ok(Date.now() - started < 20_000)
    assert.ok(daemon.node.articles().includes(article))
    const acts = (await json('/api/v1/activities')).body as unknown as Record<string, unknown>[]
    assert.deepEqual(
      acts.map((a) => [a['ref'], a['phase'], a['error'], a['counterparty']]),
      [['my-buy.1', 'FAILED', 'NODETRADE_NO_SELLER', null]]
    )
    // its BUY bid was withdrawn, not left to match a seller later
    await waitFor(
      async () => ((await json(`/api/v1/book/${article}`)).body['buys'] as unknown[]).length === 0,
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'the bid withdrawn'
      }
    )
  })
})
