import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../../node/testing.js'
import {
  createInternet,
  type Internet,
  internetNodeFlags,
  NODE_PORT,
  type NsNodeProc,
  startNodeIn
} from '../../scripts/testnet/internet/index.js'
import { ProcessGroup } from '../../scripts/testnet/processes.js'
import { requireInternet } from './helpers.js'

/** A daemon's start in a namespace: ~1-2 s on 2 cores, more under a parallel load. */
const START_MS = 30_000
/** The NATed node's first bootstrap dial and identify: milliseconds on a veth. */
const CONNECT_MS = 15_000

async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) })
  assert.equal(r.status, 200, url)
  return r.json()
}

describe('scripts/testnet/internet (daemons)', function () {
  this.timeout(90_000)
  let net: Internet | undefined
  let dir: string | undefined
  const procs = new ProcessGroup()

  before(async function () {
    requireInternet(this)
    net = await createInternet({ publicNodes: 1, homes: 1 })
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-ns-test-'))
  })

  after(async () => {
    await procs.stopAll(10_000)
    await net?.destroy()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('starts a daemon behind a NAT that joins the public bootstrap node; both APIs answer through forwarders', async () => {
    const topo = net as Internet
    const base = dir as string
    const pub = topo.node('pub0')
    const home = topo.node('home1-n0')
    const boot = await startNodeIn(
      procs,
      topo,
      pub,
      'boot',
      join(base, 'boot'),
      internetNodeFlags(pub, 'bootstrap', []),
      START_MS,
      base
    )
    assert.deepEqual(boot.listen, [`/ip4/${pub.address}/tcp/${NODE_PORT}/p2p/${boot.peerId}`])
    assert.match(boot.api, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.notEqual(boot.api, boot.innerApi)
    const nat: NsNodeProc = await startNodeIn(
      procs,
      topo,
      home,
      'nat',
      join(base, 'nat'),
      internetNodeFlags(home, 'buyer', [boot.listen[0] as string]),
      START_MS,
      base
    )
    // the forwarders' sockets are the owner's only
    assert.equal(statSync(join(base, 'nat.sock')).mode & 0o777, 0o600)
    await waitFor(async () => ((await getJson(`${nat.api}/api/v1/status`)) as { peers: number }).peers >= 1, {
      timeoutMs: CONNECT_MS,
      intervalMs: 100,
      what: 'the NATed node connected'
    })
    const peers = (await getJson(`${boot.api}/api/v1/peers`)) as { peerId: string; connected: boolean }[]
    assert.ok(peers.some((p) => p.peerId === nat.peerId && p.connected))
    const identity = (await getJson(`${nat.api}/api/v1/identity`)) as { peerId: string }
    assert.equal(identity.peerId, nat.peerId)

    // the forwarder ends with its daemon
    const fwdGone = new Promise((r) => nat.forward.child.once('exit', r))
    nat.child.kill('SIGTERM')
    await fwdGone
    await assert.rejects(fetch(`${nat.api}/api/v1/status`, { signal: AbortSignal.timeout(5000) }))
  })
})
