/**
 * The emulated internet (issue 15 §2): Linux network namespaces on this machine, built with
 * `ip` and `nft` (notes/emulated-internet.md).
 *
 *  - a backbone namespace `<prefix>-bb` with a bridge `br0`: the public internet, 198.18.0.0/15
 *    (RFC 2544's benchmarking range, never routed);
 *  - public nodes `<prefix>-pub<i>`, 198.18.0.<10+i>, on the bridge;
 *  - homes `<prefix>-home<h>` (h from 1): a router with its WAN `wan` (198.18.1.<h>) on the
 *    bridge and its LAN bridge `lan` (10.<h>.0.1/24), IPv4 forwarding, nftables `masquerade`
 *    (`masquerade fully-random` for the homes in `fullyRandomHomes`), unsolicited inbound
 *    dropped on the input hook and a forward chain passing only established/related and
 *    LAN-originated traffic (without the input drop, a peer's first punching packet leaves a
 *    conntrack entry on the router that makes the NAT remap the host's own packet: notes);
 *  - home nodes `<prefix>-home<h>-n<k>`, 10.<h>.0.<2+k>/24, default route via their router.
 *
 * Every interface is created inside a namespace (`ip -n`), so nothing appears on the host's
 * side, and no namespace has a route out of the topology. Namespaces are named with a per-run
 * prefix `bwk-<pid>-<seq>`: {@link cleanupStale} removes those of dead owners (a crashed run),
 * and every live topology is removed on `destroy()`, at process exit and on SIGINT/SIGTERM.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { run, runSync } from './command.js'

/** First octets of every namespace name this module creates: `bwk-<owner pid>-<seq>-…`. */
export const NS_PREFIX = 'bwk'

/** A namespace name of ours, with its owner's pid. */
const OWNED = new RegExp(`^${NS_PREFIX}-(\\d+)-\\d+-`)

/** Options of {@link createInternet}; every field has a default. */
export interface InternetOptions {
  /** Public nodes on the backbone (default 2: bootstrap + relay). */
  readonly publicNodes?: number
  /** Homes, each a NAT router with nodes behind it (default 3). */
  readonly homes?: number
  /** Nodes behind each home's router: one number for every home, or one per home (default 1). */
  readonly nodesPerHome?: number | readonly number[]
  /** Homes (1-based) whose router does `masquerade fully-random` (default: the last home, when there are 2 or more). */
  readonly fullyRandomHomes?: readonly number[]
}

/** A home's NAT router. */
export interface HomeRouter {
  /** 1-based home number; the LAN is 10.<home>.0.0/24. */
  readonly home: number
  readonly ns: string
  /** The router's public (WAN) address, 198.18.1.<home>: what peers see of the home's nodes. */
  readonly wan: string
  /** The router's LAN address, 10.<home>.0.1: its nodes' gateway. */
  readonly gateway: string
  /** `masquerade fully-random`: mapped source ports are random (UDP hole punching cannot pass). */
  readonly fullyRandom: boolean
}

/** A namespace a node (daemon) runs in. */
export interface NetNode {
  /** `pub<i>` or `home<h>-n<k>`. */
  readonly name: string
  readonly ns: string
  /** Its own address: 198.18.0.<10+i> for a public node, 10.<h>.0.<2+k> behind a NAT. */
  readonly address: string
  /** The address peers see its connections come from: its own, or its router's WAN. */
  readonly publicAddress: string
  /** The home's router; undefined for a public node. */
  readonly router?: HomeRouter
}

/** What a command run in a namespace printed. */
export interface ExecResult {
  readonly stdout: string
  readonly stderr: string
}

/** A built emulated internet; `destroy()` removes it (idempotent). */
export interface Internet {
  /** The per-run prefix of every namespace name (`bwk-<pid>-<seq>`). */
  readonly prefix: string
  /** The backbone namespace (the bridge). */
  readonly backbone: string
  /** Public nodes first (pub0, pub1, …), then home nodes in home order. */
  readonly nodes: readonly NetNode[]
  readonly publicNodes: readonly NetNode[]
  readonly homeNodes: readonly NetNode[]
  readonly routers: readonly HomeRouter[]
  /** Every namespace created, in creation order. */
  readonly namespaces: readonly string[]
  /** The node named `name`; throws when there is none. */
  node(name: string): NetNode
  /** Runs `cmd args…` inside `ns` (`ip netns exec`) to completion, under a deadline (default 10 s). */
  exec(
    ns: string,
    cmd: string,
    args: readonly string[],
    opts?: { input?: string; timeoutMs?: number; signal?: AbortSignal }
  ): Promise<ExecResult>
  /**
   * Starts `cmd args…` inside `ns`. `ip netns exec` execs the command after joining the
   * namespace, so the child's pid is the command's own: signals reach it directly.
   */
  spawn(ns: string, cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess
  /** Kills what still runs in its namespaces and deletes them; idempotent. */
  destroy(): Promise<void>
}

/** Public node i's address. */
const publicAddr = (i: number): string => `198.18.0.${10 + i}`
/** The backbone prefix length: 198.18.0.0/15. */
const BACKBONE_BITS = 15
/** Upper bounds that keep every address inside its octet (and runs on one machine sane). */
const MAX_PUBLIC = 200
const MAX_HOMES = 200
const MAX_PER_HOME = 8

/** Topologies alive in this process, removed synchronously at exit if still there. */
const live = new Set<string[]>()
let seq = 0
let hooksInstalled = false

/**
 * True when `pid` is a running process. A zombie (dead, not yet reaped: e.g. a killed
 * controller whose parent died too, under an init that does not reap) is not running.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the state is the field after "(comm) " (proc(5))
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return true
  }
}

/** Every network namespace name (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list'])
  return parseNetnsList(stdout)
}

function parseNetnsList(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '')
}

/** Kills (SIGKILL, by pid) what runs in `ns` and deletes it; synchronous, never throws. */
function removeNamespaceSync(ns: string): void {
  for (const pid of (runSync('ip', ['netns', 'pids', ns]) ?? '').split(/\s+/)) {
    const n = Number(pid)
    if (Number.isInteger(n) && n > 0 && n !== process.pid) {
      try {
        process.kill(n, 'SIGKILL')
      } catch {}
    }
  }
  runSync('ip', ['netns', 'del', ns])
}

async function removeNamespace(ns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }))
  for (const pid of pids.stdout.split(/\s+/)) {
    const n = Number(pid)
    if (Number.isInteger(n) && n > 0 && n !== process.pid) {
      try {
        process.kill(n, 'SIGKILL')
      } catch {}
    }
  }
  await run('ip', ['netns', 'del', ns]).catch(() => undefined)
}

/**
 * Removes the namespaces of crashed runs: ours by name (`bwk-<pid>-<seq>-…`) whose owner pid is
 * no longer running, killing (by pid) what still runs inside them. Returns the names removed.
 */
export async function cleanupStale(): Promise<string[]> {
  const stale = (await listNamespaces()).filter((ns) => {
    const m = OWNED.exec(ns)
    return m !== null && !alive(Number(m[1]))
  })
  for (const ns of stale) await removeNamespace(ns)
  return stale
}

/** Removes every live topology of this process now (exit and signal path). */
function destroyAllSync(): void {
  for (const names of live) for (const ns of [...names].reverse()) removeNamespaceSync(ns)
  live.clear()
}

/**
 * At exit, and on SIGINT/SIGTERM when nobody else handles them (the testnet does, and tears
 * down itself), removes every live topology; a signal is then raised again with its default
 * action, so the process still ends as it would have.
 */
function installHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', destroyAllSync)
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 1) return
      destroyAllSync()
      process.removeListener(sig, onSignal)
      process.kill(process.pid, sig)
    }
    process.on(sig, onSignal)
  }
}

function perHome(opt: InternetOptions['nodesPerHome'], homes: number): number[] {
  return Array.from({ length: homes }, (_, i) =>
    typeof opt === 'number' ? opt : opt === undefined ? 1 : (opt[i] ?? 1)
  )
}

/** Builds the emulated internet (after removing stale namespaces of crashed runs). */
export async function createInternet(opts: InternetOptions = {}): Promise<Internet> {
  const publicCount = opts.publicNodes ?? 2
  const homes = opts.homes ?? 3
  const counts = perHome(opts.nodesPerHome, homes)
  const randomHomes = new Set(opts.fullyRandomHomes ?? (homes >= 2 ? [homes] : []))
  if (!Number.isInteger(publicCount) || publicCount < 1 || publicCount > MAX_PUBLIC)
    throw new RangeError(`publicNodes must be 1 … ${MAX_PUBLIC}`)
  if (!Number.isInteger(homes) || homes < 0 || homes > MAX_HOMES)
    throw new RangeError(`homes must be 0 … ${MAX_HOMES}`)
  if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > MAX_PER_HOME))
    throw new RangeError(`nodesPerHome must be 1 … ${MAX_PER_HOME}`)
  installHooks()
  await cleanupStale()

  const prefix = `${NS_PREFIX}-${process.pid}-${seq++}`
  const namespaces: string[] = []
  live.add(namespaces)
  const ip = (ns: string, ...args: string[]): Promise<unknown> => run('ip', ['-n', ns, ...args])
  const inNs = (ns: string, cmd: string, args: readonly string[], input?: string) =>
    run('ip', ['netns', 'exec', ns, cmd, ...args], input !== undefined ? { input } : {})
  const addNs = async (ns: string): Promise<void> => {
    namespaces.push(ns)
    await run('ip', ['netns', 'add', ns])
    await ip(ns, 'link', 'set', 'lo', 'up')
  }
  /** A veth `a` in `nsA` and its peer `b` in `nsB`, both up; created inside the namespaces. */
  const veth = async (nsA: string, a: string, nsB: string, b: string): Promise<void> => {
    await ip(nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB)
    await ip(nsA, 'link', 'set', a, 'up')
    await ip(nsB, 'link', 'set', b, 'up')
  }

  const backbone = `${prefix}-bb`
  const publicNodes: NetNode[] = []
  const homeNodes: NetNode[] = []
  const routers: HomeRouter[] = []
  let destroyed = false
  const destroy = async (): Promise<void> => {
    if (destroyed) return
    destroyed = true
    for (const ns of [...namespaces].reverse()) await removeNamespace(ns)
    live.delete(namespaces)
  }

  try {
    await addNs(backbone)
    await ip(backbone, 'link', 'add', 'br0', 'type', 'bridge')
    await ip(backbone, 'link', 'set', 'br0', 'up')

    for (let i = 0; i < publicCount; i++) {
      const ns = `${prefix}-pub${i}`
      await addNs(ns)
      await veth(backbone, `p${i}`, ns, 'eth0')
      await ip(backbone, 'link', 'set', `p${i}`, 'master', 'br0')
      await ip(ns, 'addr', 'add', `${publicAddr(i)}/${BACKBONE_BITS}`, 'dev', 'eth0')
      publicNodes.push({ name: `pub${i}`, ns, address: publicAddr(i), publicAddress: publicAddr(i) })
    }

    for (let h = 1; h <= homes; h++) {
      const rns = `${prefix}-home${h}`
      const router: HomeRouter = {
        home: h,
        ns: rns,
        wan: `198.18.1.${h}`,
        gateway: `10.${h}.0.1`,
        fullyRandom: randomHomes.has(h)
      }
      await addNs(rns)
      await veth(backbone, `r${h}`, rns, 'wan')
      await ip(backbone, 'link', 'set', `r${h}`, 'master', 'br0')
      await ip(rns, 'addr', 'add', `${router.wan}/${BACKBONE_BITS}`, 'dev', 'wan')
      await ip(rns, 'link', 'add', 'lan', 'type', 'bridge')
      await ip(rns, 'link', 'set', 'lan', 'up')
      await ip(rns, 'addr', 'add', `${router.gateway}/24`, 'dev', 'lan')
      await inNs(rns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
      await inNs(rns, 'nft', ['-f', '-'], routerRuleset(router.fullyRandom))
      routers.push(router)

      for (let k = 0; k < (counts[h - 1] as number); k++) {
        const ns = `${rns}-n${k}`
        const address = `10.${h}.0.${2 + k}`
        await addNs(ns)
        await veth(rns, `n${k}`, ns, 'eth0')
        await ip(rns, 'link', 'set', `n${k}`, 'master', 'lan')
        await ip(ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0')
        // the only default route in the topology, and it points inside it
        await ip(ns, 'route', 'add', 'default', 'via', router.gateway)
        homeNodes.push({ name: `home${h}-n${k}`, ns, address, publicAddress: router.wan, router })
      }
    }
  } catch (err) {
    await destroy()
    throw err
  }

  const nodes = [...publicNodes, ...homeNodes]
  return {
    prefix,
    backbone,
    nodes,
    publicNodes,
    homeNodes,
    routers,
    namespaces,
    node(name) {
      const n = nodes.find((x) => x.name === name)
      if (n === undefined) throw new Error(`no node ${name} in ${prefix}`)
      return n
    },
    exec: (ns, cmd, args, o = {}) => run('ip', ['netns', 'exec', ns, cmd, ...args], o),
    spawn: (ns, cmd, args, o = {}) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], o),
    destroy
  }
}

/**
 * A home router's nftables ruleset: NAT on the WAN, unsolicited inbound dropped on input, and
 * forwarding only for replies and for what the LAN sends (notes/emulated-internet.md).
 */
export function routerRuleset(fullyRandom: boolean): string {
  return `table ip nat {
  chain post {
    type nat hook postrouting priority 100; policy accept;
    oifname "wan" masquerade${fullyRandom ? ' fully-random' : ''}
  }
}
table ip filter {
  chain inp {
    type filter hook input priority 0; policy accept;
    iifname "wan" ct state new drop
  }
  chain fw {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" accept
  }
}
`
}
