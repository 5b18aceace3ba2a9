import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  cleanupStale,
  createInternet,
  type Internet,
  listNamespaces
} from '../../scripts/testnet/internet/index.js'
import {
  nextLine,
  nodeIn,
  output,
  ownView,
  requireInternet,
  TCP_CLIENT,
  TCP_SERVER,
  UDP_ECHO,
  UDP_PROBE
} from './helpers.js'

/** The compiled module, for the crashing controller (this file runs from dist/test/internet/). */
const TOPOLOGY = fileURLToPath(new URL('../../scripts/testnet/internet/index.js', import.meta.url))

describe('scripts/testnet/internet (namespaces)', function () {
  this.timeout(60_000)
  let net: Internet | undefined
  let initial: string[] = []

  before(async function () {
    requireInternet(this)
    initial = await listNamespaces()
    net = await createInternet({ publicNodes: 2, homes: 3, nodesPerHome: [1, 2, 1] })
  })

  after(async () => {
    if (net === undefined) return
    await net.destroy()
    assert.deepEqual(
      ownView(await listNamespaces(), initial, [process.pid]),
      initial,
      '`ip netns list` differs from before the suite'
    )
  })

  const topo = (): Internet => net as Internet

  it('builds every namespace, and taking it down leaves `ip netns list` as before', async () => {
    const t = await createInternet({ publicNodes: 1, homes: 1 })
    const during = await listNamespaces()
    for (const ns of t.namespaces) assert.ok(during.includes(ns), ns)
    assert.equal(t.namespaces.length, 4)
    await t.destroy()
    await t.destroy()
    const left = ownView(await listNamespaces(), initial, [process.pid])
    assert.deepEqual(
      left.filter((n) => !topo().namespaces.includes(n)),
      initial
    )
  })

  it('gives home nodes a default route via their router only, and public nodes none', async () => {
    const home = topo().node('home2-n1')
    const routes = (await topo().exec(home.ns, 'ip', ['route'])).stdout
    assert.match(routes, /^default via 10\.2\.0\.1 dev eth0/m)
    assert.equal(home.address, '10.2.0.3')
    assert.equal(home.publicAddress, '198.18.1.2')
    for (const ns of [topo().node('pub0').ns, topo().routers[0]?.ns as string])
      assert.doesNotMatch((await topo().exec(ns, 'ip', ['route'])).stdout, /default/)
  })

  it('masquerades a home node: a public node sees its TCP connection come from the router WAN', async () => {
    const pub = topo().node('pub0')
    const server = nodeIn(topo(), pub.ns, TCP_SERVER, [pub.address])
    try {
      const port = (await nextLine(server, (l) => l.startsWith('port '))).split(' ')[1] as string
      const from = nextLine(server, (l) => l.startsWith('from '))
      const client = nodeIn(topo(), topo().node('home1-n0').ns, TCP_CLIENT, [pub.address, port])
      assert.match(await output(client), /^connected$/m)
      assert.equal((await from).split(' ')[1]?.split(':')[0], '198.18.1.1')
    } finally {
      server.kill()
    }
  })

  it('drops an unsolicited inbound connection to a home (no answer, not even a reset)', async () => {
    const home = topo().node('home1-n0')
    const server = nodeIn(topo(), home.ns, TCP_SERVER, ['0.0.0.0'])
    try {
      const port = (await nextLine(server, (l) => l.startsWith('port '))).split(' ')[1] as string
      const pub = topo().node('pub0')
      // to the router's public address, and to the home node's private one (no route there)
      const viaWan = await output(nodeIn(topo(), pub.ns, TCP_CLIENT, [home.publicAddress, port]))
      assert.equal(viaWan.trim(), 'timeout')
      const direct = await output(nodeIn(topo(), pub.ns, TCP_CLIENT, [home.address, port]))
      assert.match(direct.trim(), /^error (ENETUNREACH|EHOSTUNREACH)$/)
      // the same server is reachable inside its home
      const local = await output(nodeIn(topo(), topo().node('home1-n0').ns, TCP_CLIENT, [home.address, port]))
      assert.equal(local.trim(), 'connected')
    } finally {
      server.kill()
    }
  })

  it('keeps the UDP source port behind masquerade and randomises it behind fully-random', async () => {
    const pub = topo().node('pub1')
    const echo = nodeIn(topo(), pub.ns, UDP_ECHO, [pub.address])
    try {
      const [, p1, p2] = (await nextLine(echo, (l) => l.startsWith('ports '))).split(' ') as [
        string,
        string,
        string
      ]
      const probe = async (node: string): Promise<{ local: string; a: string; b: string }> => {
        const line = (
          await output(nodeIn(topo(), topo().node(node).ns, UDP_PROBE, [pub.address, p1, p2]))
        ).trim()
        const m = /^local (\d+) mapped ([\d.]+:\d+) ([\d.]+:\d+)$/.exec(line)
        assert.ok(m !== null, line)
        return { local: m[1] as string, a: m[2] as string, b: m[3] as string }
      }
      const plain = await probe('home1-n0')
      assert.equal(plain.a, `198.18.1.1:${plain.local}`)
      assert.equal(plain.b, plain.a)
      assert.equal(topo().routers[2]?.fullyRandom, true)
      const random = await probe('home3-n0')
      assert.equal(random.a.split(':')[0], '198.18.1.3')
      assert.notEqual(random.a, random.b)
    } finally {
      echo.kill()
    }
  })

  it('removes the namespaces of a crashed controller, and what ran in them, on the next run', async () => {
    const script = `import(${JSON.stringify(TOPOLOGY)}).then(async (m) => {
      const net = await m.createInternet({ publicNodes: 1, homes: 1 })
      const sleeper = net.spawn(net.homeNodes[0].ns, 'sleep', ['600'], { stdio: 'ignore', detached: true })
      console.log('up ' + net.prefix + ' ' + sleeper.pid)
    })`
    const crashing = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const [, prefix, pid] = (await nextLine(crashing, (l) => l.startsWith('up '))).split(' ') as [
      string,
      string,
      string
    ]
    const gone = new Promise((r) => crashing.once('exit', r))
    crashing.kill('SIGKILL')
    await gone
    const left = (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))
    assert.equal(left.length, 4)
    const removed = await cleanupStale()
    // a crashed parallel run's namespaces may go too: ours must be among those removed
    for (const ns of left) assert.ok(removed.includes(ns), ns)
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)),
      []
    )
    assert.ok(!processRuns(Number(pid)), `sleep ${pid} still runs`)
  })
})

/** True while `pid` runs (a zombie, killed but not yet reaped, does not). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}
