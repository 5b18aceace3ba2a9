import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NetworkView, PeerView, StatusView } from '../../node/api/index.js'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'
import { waitFor } from '../../node/testing.js'
import { runCli } from '../cli/run.js'

describe('daemon: reachability and relays in the API, status and metrics (network.md)', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  const daemons: Daemon[] = []
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()))
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })
  async function daemon(opts: { bootstrap?: string[] } = {}): Promise<Daemon> {
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-net-'))
    dirs.push(dir)
    const d = await startDaemon({ dataDir: dir, apiPort: 0, ...opts })
    daemons.push(d)
    return d
  }
  async function get<T>(d: Daemon, path: string): Promise<T> {
    const res = await fetch(`${d.info.apiUrl}${path}`, { signal: AbortSignal.timeout(10_000) })
    assert.equal(res.status, 200, path)
    return (path === '/metrics' ? await res.text() : await res.json()) as T
  }

  it('a loopback daemon reports private, no relay, direct connections, without a NO_RELAY warning', async () => {
    const a = await daemon()
    const b = await daemon({ bootstrap: [a.info.listen[0] as string] })
    const expected: NetworkView = {
      reachability: 'private',
      relayServer: false,
      relayReservations: [],
      connections: { direct: 0, relayed: 0 },
      warning: null
    }
    const id = await get<{ network: NetworkView }>(a, '/api/v1/identity')
    assert.deepEqual({ ...id.network, connections: expected.connections }, expected)
    await waitFor(
      async () => (await get<PeerView[]>(a, '/api/v1/peers')).some((p) => p.peerId === b.info.peerId),
      {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'B at A'
      }
    )
    const peers = await get<PeerView[]>(a, '/api/v1/peers')
    const pb = peers.find((p) => p.peerId === b.info.peerId)
    assert.ok(pb?.connections !== undefined && pb.connections.length > 0)
    for (const c of pb.connections) {
      assert.equal(c.kind, 'direct')
      assert.ok(pb.addrs.includes(c.addr))
    }
    const status = await get<StatusView>(a, '/api/v1/status')
    assert.equal(status.network?.reachability, 'private')
    assert.ok((status.network?.connections.direct ?? 0) >= 1)
    const metrics = await get<string>(a, '/metrics')
    assert.match(metrics, /^bitwrk_reachability\{state="private"\} 1$/m)
    assert.match(metrics, /^bitwrk_reachability\{state="public"\} 0$/m)
    assert.match(metrics, /^bitwrk_connections\{kind="direct"\} [1-9]\d*$/m)
    assert.match(metrics, /^bitwrk_connections\{kind="relayed"\} 0$/m)
    assert.match(metrics, /^bitwrk_relay_reservations 0$/m)
    const human = await runCli(['status', '--api', a.info.apiUrl], {})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^reachability: private$/m)
    assert.match(human.stdout, /^relay reservations: none$/m)
    assert.doesNotMatch(human.stdout, /NO_RELAY/)
    const peersOut = await runCli(['peers', '--api', a.info.apiUrl], {})
    assert.equal(peersOut.code, 0, peersOut.stderr)
    assert.match(peersOut.stdout, new RegExp(`^${b.info.peerId} /ip4/127\\.0\\.0\\.1/tcp/\\d+`, 'm'))
    assert.doesNotMatch(peersOut.stdout, /\(relayed\)/)
  })

  it('start refuses --relay-server with --no-relay-server and a bad --announce in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-net-'))
    dirs.push(dir)
    const both = await runCli(['start', '--data-dir', dir, '--relay-server', '--no-relay-server'], {
      HOME: dir
    })
    assert.equal(both.code, 2)
    assert.match(both.stderr, /\[CLI_BAD_ARGUMENT\]\n$/)
    assert.equal(both.stderr.split('\n').length, 2)
    const bad = await runCli(
      [
        'start',
        '--data-dir',
        dir,
        '--api-port',
        '0',
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--announce',
        '/ip4/1.2.3.4/tcp/nope'
      ],
      { HOME: dir }
    )
    assert.equal(bad.code, 1, bad.stderr)
    assert.match(bad.stderr, /\[HOST_BAD_ADDRESS\]\n$/)
  })
})
