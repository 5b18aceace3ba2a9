import assert from 'node:assert/strict'
import {
  defaultNodesPerHome,
  internetNodeFlags,
  type NetNode,
  routerRuleset
} from '../../scripts/testnet/internet/index.js'

const router = { home: 1, ns: 'r', wan: '198.18.1.1', gateway: '10.1.0.1', fullyRandom: false }
const pub: NetNode = { name: 'pub0', ns: 'p', address: '198.18.0.10', publicAddress: '198.18.0.10' }
const home: NetNode = { name: 'home1-n0', ns: 'h', address: '10.1.0.2', publicAddress: router.wan, router }

describe('scripts/testnet/internet (plan, without namespaces)', () => {
  it('lets a public node listen on its own address and a NATed one on every interface, both with WebRTC, joining the bootstrap list', () => {
    assert.deepEqual(internetNodeFlags(pub, 'bootstrap', []), [
      '--listen',
      '/ip4/198.18.0.10/tcp/4001',
      '--webrtc'
    ])
    assert.deepEqual(
      internetNodeFlags(home, 'buyer', [
        '/ip4/198.18.0.10/tcp/4001/p2p/x',
        '/ip4/198.18.0.11/tcp/4001/p2p/y'
      ]),
      [
        '--listen',
        '/ip4/0.0.0.0/tcp/4001',
        '--webrtc',
        '--bootstrap',
        '/ip4/198.18.0.10/tcp/4001/p2p/x,/ip4/198.18.0.11/tcp/4001/p2p/y'
      ]
    )
  })

  it('gives a home router NAT on its WAN, drops unsolicited inbound and forwards only replies and LAN traffic', () => {
    const plain = routerRuleset(false)
    assert.match(plain, /oifname "wan" masquerade\n/)
    assert.match(plain, /type filter hook input priority 0; policy accept;\s+iifname "wan" ct state new drop/)
    assert.match(
      plain,
      /hook forward priority 0; policy drop;\s+ct state established,related accept\s+iifname "lan" accept/
    )
    assert.match(routerRuleset(true), /oifname "wan" masquerade fully-random\n/)
  })

  it('puts the buyer alone in home 1 and two sellers in home 2 by default', () => {
    assert.deepEqual(defaultNodesPerHome(3), [1, 2, 1])
    assert.deepEqual(defaultNodesPerHome(2), [1, 2])
  })
})
