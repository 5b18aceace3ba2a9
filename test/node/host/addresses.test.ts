import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import {
  type AddressScope,
  announceable,
  dialable,
  ipv4Scope,
  ipv6Scope,
  isCircuit,
  localScopes,
  relayPeerOf,
  scopeOf,
  usableForDht
} from '../../../node/host/addresses.js'
import { type AddressRecord, reachabilityOf } from '../../../node/host/reachability.js'
import { RelayGate, reservationRelays } from '../../../node/host/relay.js'
import { establishSellerAddrs } from '../../../node/market/market.js'
import { randomPrivateKey } from '../../../node/testing.js'
import { Identity } from '../../../protocol/identity/index.js'

const R = Identity.fromPrivateKey(randomPrivateKey()).peerId
const B = Identity.fromPrivateKey(randomPrivateKey()).peerId
const ma = (s: string): Multiaddr => multiaddr(s)
const strs = (list: readonly Multiaddr[]): string[] => list.map(String)

describe('node/host/addresses', () => {
  it('classifies IPv4 addresses by scope; 198.18.0.0/15 is public (the emulated internet)', () => {
    const table: [string, AddressScope][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.1', 'private'],
      ['172.32.0.1', 'public'],
      ['172.15.0.1', 'public'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['100.127.255.1', 'private'],
      ['100.128.0.1', 'public'],
      ['169.254.1.1', 'private'],
      ['198.18.0.1', 'public'],
      ['198.19.255.254', 'public'],
      ['198.20.0.1', 'public'],
      ['8.8.8.8', 'public'],
      ['0.0.0.0', 'invalid'],
      ['224.0.0.1', 'invalid'],
      ['255.255.255.255', 'invalid'],
      ['256.1.1.1', 'invalid'],
      ['1.2.3', 'invalid'],
      ['', 'invalid'],
      ['01a.1.1.1', 'invalid']
    ]
    for (const [ip, scope] of table) assert.equal(ipv4Scope(ip), scope, ip)
  })

  it('classifies IPv6 addresses by scope', () => {
    const table: [string, AddressScope][] = [
      ['::1', 'loopback'],
      ['::', 'invalid'],
      ['fc00::1', 'private'],
      ['fd12:3456::1', 'private'],
      ['fe80::1', 'private'],
      ['febf::1', 'private'],
      ['fec0::1', 'public'],
      ['ff02::1', 'invalid'],
      ['2001:db8::1', 'public'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:198.18.0.1', 'public'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['zz::1', 'invalid'],
      ['12345::1', 'invalid'],
      ['', 'invalid']
    ]
    for (const [ip, scope] of table) assert.equal(ipv6Scope(ip), scope, ip)
  })

  it('takes the scope of a multiaddr from its first IP or DNS part (the relay part of a circuit)', () => {
    assert.equal(scopeOf(ma('/ip4/10.1.0.2/tcp/4001')), 'private')
    assert.equal(scopeOf(ma('/ip6/::1/tcp/1')), 'loopback')
    assert.equal(scopeOf(ma('/ip6zone/eth0/ip6/fe80::1/tcp/1')), 'private')
    assert.equal(scopeOf(ma('/dns4/localhost/tcp/1')), 'loopback')
    assert.equal(scopeOf(ma('/dns4/relay.example.org/tcp/1')), 'public')
    const circuit = ma(`/ip4/198.18.0.10/tcp/4001/p2p/${R}/p2p-circuit/p2p/${B}`)
    assert.equal(scopeOf(circuit), 'public')
    assert.ok(isCircuit(circuit))
    assert.equal(relayPeerOf(circuit), R)
    assert.equal(relayPeerOf(ma(`/ip4/198.18.0.10/tcp/4001/p2p/${R}`)), undefined)
    assert.equal(scopeOf(ma(`/p2p/${R}/p2p-circuit`)), 'unknown')
  })

  it('finds the local scopes from listen addresses and, for 0.0.0.0 / ::, the interfaces (without loopback)', () => {
    const ifaces = {
      lo: [
        { address: '127.0.0.1', family: 'IPv4', internal: true },
        { address: '::1', family: 'IPv6', internal: true }
      ],
      eth0: [
        { address: '10.1.0.2', family: 'IPv4', internal: false },
        { address: 'fe80::1%eth0', family: 'IPv6', internal: false }
      ],
      eth1: [{ address: '198.18.0.7', family: 'IPv4', internal: false }]
    }
    assert.deepEqual([...localScopes([ma('/ip4/0.0.0.0/tcp/4001')], ifaces)].sort(), ['private', 'public'])
    assert.deepEqual([...localScopes([ma('/ip6/::/tcp/4001')], ifaces)], ['private'])
    assert.deepEqual([...localScopes([ma('/ip4/127.0.0.1/tcp/0')], ifaces)], ['loopback'])
    assert.deepEqual([...localScopes([ma('/ip4/10.1.0.2/tcp/0'), ma('/p2p-circuit')], ifaces)], ['private'])
    assert.deepEqual([...localScopes([ma('/ip4/0.0.0.0/tcp/0')], {})], [])
  })

  it('dials loopback and private addresses only inside its own scopes, never invalid ones (the gater, NET-6)', () => {
    const publicOnly = new Set<AddressScope>(['public'])
    const lan = new Set<AddressScope>(['private'])
    const loop = new Set<AddressScope>(['loopback'])
    assert.equal(dialable(ma('/ip4/10.0.0.5/tcp/1'), publicOnly), false)
    assert.equal(dialable(ma('/ip4/192.168.1.5/tcp/1'), publicOnly), false)
    assert.equal(dialable(ma('/ip4/127.0.0.1/tcp/1'), publicOnly), false)
    assert.equal(dialable(ma('/ip4/198.18.0.10/tcp/1'), publicOnly), true)
    assert.equal(dialable(ma('/ip4/10.0.0.5/tcp/1'), lan), true)
    assert.equal(dialable(ma('/ip4/127.0.0.1/tcp/1'), lan), false)
    assert.equal(dialable(ma('/ip4/198.18.0.10/tcp/1'), lan), true)
    assert.equal(dialable(ma('/ip4/127.0.0.1/tcp/1'), loop), true)
    assert.equal(dialable(ma('/ip4/0.0.0.0/tcp/1'), loop), false)
    assert.equal(dialable(ma('/ip4/224.0.0.1/tcp/1'), publicOnly), false)
    // a circuit through a private relay is as undialable as the relay
    assert.equal(dialable(ma(`/ip4/10.0.0.9/tcp/1/p2p/${R}/p2p-circuit/p2p/${B}`), publicOnly), false)
    assert.equal(dialable(ma(`/ip4/198.18.0.9/tcp/1/p2p/${R}/p2p-circuit/p2p/${B}`), publicOnly), true)
  })

  it('announces only the widest scope: a public peer is never told private or loopback addresses (NET-4)', () => {
    const lo = ma('/ip4/127.0.0.1/tcp/4001')
    const lan = ma('/ip4/10.1.0.2/tcp/4001')
    const pub = ma('/ip4/198.18.0.7/tcp/4001')
    const circuit = ma(`/ip4/198.18.0.10/tcp/4001/p2p/${R}/p2p-circuit`)
    const lanCircuit = ma(`/ip4/10.1.0.1/tcp/4001/p2p/${R}/p2p-circuit`)
    const bad = ma('/ip4/0.0.0.0/tcp/4001')
    const none = { loopbackOnly: false, publicContact: false }
    assert.deepEqual(strs(announceable([lo, lan, pub, bad], none)), [String(pub)])
    assert.deepEqual(strs(announceable([lo, lan, circuit, lanCircuit], none)), [String(circuit)])
    assert.deepEqual(strs(announceable([lo, lan, lanCircuit], none)), [String(lan), String(lanCircuit)])
    assert.deepEqual(strs(announceable([lo], none)), [String(lo)])
    // in contact with the public scope (a NATed node before its reservation): nothing private
    assert.deepEqual(strs(announceable([lo, lan], { loopbackOnly: false, publicContact: true })), [])
    // loopback-only hosts announce what they listen on, as before
    assert.deepEqual(strs(announceable([lo, bad], { loopbackOnly: true, publicContact: false })), [
      String(lo)
    ])
  })

  it('keeps in the DHT only peer addresses it may dial (NET-7)', () => {
    const addrs = [
      ma('/ip4/127.0.0.1/tcp/1'),
      ma('/ip4/10.0.0.1/tcp/1'),
      ma('/ip4/198.18.0.3/tcp/1'),
      ma(`/ip4/198.18.0.10/tcp/4001/p2p/${R}/p2p-circuit`)
    ]
    assert.deepEqual(strs(usableForDht(addrs, new Set(['public']))), strs(addrs.slice(2)))
    assert.deepEqual(strs(usableForDht(addrs, new Set(['private']))), strs(addrs.slice(1)))
  })
})

describe('node/host/reachability', () => {
  const rec = (s: string, verified: boolean, type: string, expires = 0): AddressRecord => ({
    multiaddr: ma(s),
    verified,
    type,
    expires
  })
  const now = 1_000_000
  it('is public with a verified public address (AutoNAT, announce, a 198.18 listener)', () => {
    assert.equal(reachabilityOf([rec('/ip4/8.8.4.4/tcp/1', true, 'observed')], now), 'public')
    assert.equal(reachabilityOf([rec('/ip4/198.18.0.7/tcp/1', true, 'transport')], now), 'public')
    assert.equal(
      reachabilityOf(
        [rec('/ip4/10.0.0.2/tcp/1', true, 'transport'), rec('/dns4/x.org/tcp/1', true, 'announce')],
        now
      ),
      'public'
    )
  })
  it('is private with no public address, refuted ones, or only an unverifiable observed one', () => {
    assert.equal(reachabilityOf([], now), 'private')
    assert.equal(reachabilityOf([rec('/ip4/10.0.0.2/tcp/1', true, 'transport')], now), 'private')
    // a reservation does not make a node public
    assert.equal(
      reachabilityOf([rec(`/ip4/198.18.0.10/tcp/1/p2p/${R}/p2p-circuit`, true, 'transport')], now),
      'private'
    )
    // AutoNAT failed: unverified, retry ahead
    assert.equal(reachabilityOf([rec('/ip4/8.8.4.4/tcp/1', false, 'transport', now + 1000)], now), 'private')
    // the NAT's address in the benchmarking range: AutoNAT v1 cannot check it
    assert.equal(reachabilityOf([rec('/ip4/198.18.0.1/tcp/5555', false, 'observed')], now), 'private')
  })
  it('is unknown while a public candidate awaits AutoNAT', () => {
    assert.equal(reachabilityOf([rec('/ip4/8.8.4.4/tcp/1', false, 'observed', 0)], now), 'unknown')
  })
})

describe('node/host/relay gate', () => {
  it('refuses reservations to denied peers and while not serving; budgets circuits per source peer', () => {
    const denied = new Set<string>([B])
    let serving = true
    const refused: string[] = []
    let t = 0
    const gate = new RelayGate({
      deny: (p) => denied.has(p),
      serving: () => serving,
      circuitsPerPeer: { burst: 2, perSecond: 1 },
      now: () => t,
      onRefused: (r) => refused.push(r)
    })
    const r = peerIdFromString(R)
    const b = peerIdFromString(B)
    const c = peerIdFromString(Identity.fromPrivateKey(randomPrivateKey()).peerId)
    assert.equal(gate.denyReservation(r), false)
    assert.equal(gate.denyReservation(b), true)
    serving = false
    assert.equal(gate.denyReservation(r), true)
    // circuits: a denied source or destination, then the per-source budget
    assert.equal(gate.denyCircuit(b, r), true)
    assert.equal(gate.denyCircuit(r, b), true)
    assert.equal(gate.denyCircuit(r, c), false)
    assert.equal(gate.denyCircuit(r, c), false)
    assert.equal(gate.denyCircuit(r, c), true)
    assert.equal(gate.denyCircuit(c, r), false, 'budgets are per source peer')
    t += 1000
    assert.equal(gate.denyCircuit(r, c), false)
    assert.deepEqual(refused, ['denied', 'not_serving', 'denied', 'denied', 'budget'])
  })
  it('lists the relays of its own circuit addresses', () => {
    assert.deepEqual(
      reservationRelays([
        ma('/ip4/127.0.0.1/tcp/1'),
        ma(`/ip4/198.18.0.10/tcp/1/p2p/${R}/p2p-circuit`),
        ma(`/ip6/::1/tcp/1/p2p/${R}/p2p-circuit`)
      ]),
      [R]
    )
  })
})

describe('node/market establish-seller addrs (TX-7, NET-15)', () => {
  it('drops only the trailing own /p2p/ id: relay addresses keep the relay and /p2p-circuit', () => {
    const relayAddr = `/ip4/198.18.0.10/tcp/4001/p2p/${R}/p2p-circuit`
    assert.deepEqual(
      establishSellerAddrs([
        `${relayAddr}/p2p/${B}`,
        `/ip4/198.18.0.7/tcp/4001/p2p/${B}`,
        `/ip4/198.18.0.7/tcp/4001/p2p/${B}`,
        `/p2p/${B}`,
        '/ip4/1.2.3.4/tcp/1,/ip4/5.6.7.8/tcp/1'
      ]),
      [relayAddr, '/ip4/198.18.0.7/tcp/4001']
    )
    // within 255 bytes joined: two relay addresses (~110 bytes each) fit, a third does not
    const many = [1, 2, 3].map((i) => `/ip4/198.18.0.${i}/tcp/4001/p2p/${R}/p2p-circuit/p2p/${B}`)
    const out = establishSellerAddrs(many)
    assert.equal(out.length, 2)
    assert.ok(out.join(',').length <= 255)
  })
})
