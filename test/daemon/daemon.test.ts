import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DAEMON_FILE_NAME } from '../../node/daemon/index.js'
import { waitFor } from '../../node/testing.js'
import { runCli } from '../cli/run.js'
import { sharedEntries } from '../node/store/helpers.js'
import { type DaemonProcess, startDaemonProcess, stopDaemonProcess } from './helpers.js'

describe('cli/start (daemon subprocess)', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  const running: DaemonProcess[] = []
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
