/**
 * The testnet's `--internet` layout: the daemons in the emulated internet's namespaces. The
 * first public node is the bootstrap node, the others stand by as relays (the relay service
 * comes with issue 15 §1); the buyer is the first node of home 1; sellers are the nodes of the
 * other homes, or with `publicSellers` the public nodes (a NATed buyer can dial a public seller
 * today; NATed sellers need relays and hole punching).
 */
import { join } from 'node:path'
import type { Layout, NodeSpec } from '../layout.js'
import type { ProcessGroup } from '../processes.js'
import { internetUnavailable } from './command.js'
import { internetNodeFlags, type NodeRole, type NsNodeProc, startNodeIn, startWorkerIn } from './nodes.js'
import { createInternet, type NetNode } from './topology.js'

/** The shape of the emulated internet the testnet builds. */
export interface InternetPlan {
  /** Public nodes (≥ 1; default 2: bootstrap + relay). */
  readonly publicNodes: number
  /** Homes (≥ 2: the buyer's and the sellers'; default 3). */
  readonly homes: number
  /** Nodes per home, one entry per home. */
  readonly nodesPerHome: readonly number[]
  /** Sellers on the public nodes instead of in homes 2…H. */
  readonly publicSellers: boolean
  /**
   * The buyer on a public node (the last one) instead of in home 1, whose nodes then sell too:
   * a public buyer reaches NATed sellers by connection reversal (DIRECT-9).
   */
  readonly publicBuyer?: boolean
  /** The public nodes refuse to relay (`--no-relay-server`): NATed nodes find no relay (NET-16). */
  readonly noRelays?: boolean
  /** Homes behind a `masquerade fully-random` NAT (no hole punching); default the last home. */
  readonly fullyRandomHomes?: readonly number[]
}

/** Nodes per home by default: the buyer alone in home 1, two sellers in home 2, one in each other home. */
export function defaultNodesPerHome(homes: number): number[] {
  return Array.from({ length: homes }, (_, i) => (i === 1 ? 2 : 1))
}

/** Raised when the machine cannot build the emulated internet (its message is one line). */
export class InternetUnavailableError extends Error {
  override readonly name = 'InternetUnavailableError'
}

/**
 * Builds the emulated internet for `plan` and returns the layout of daemons in it; sockets of
 * the API forwarders go to `base` (a 0700 directory of this run).
 */
export async function internetLayout(
  procs: ProcessGroup,
  base: string,
  plan: InternetPlan,
  nodeFlags: (name: string) => string[]
): Promise<Layout> {
  const why = internetUnavailable()
  if (why !== undefined) throw new InternetUnavailableError(why)
  const net = await createInternet({
    publicNodes: plan.publicNodes,
    homes: plan.homes,
    nodesPerHome: plan.nodesPerHome,
    ...(plan.fullyRandomHomes !== undefined ? { fullyRandomHomes: plan.fullyRandomHomes } : {})
  })
  const roles = new Map<string, NodeRole>()
  const specs: NodeSpec[] = []
  const add = (n: NetNode, role: NodeRole, seller: boolean, buyer = role === 'buyer'): void => {
    roles.set(n.name, role)
    specs.push({ name: n.name, buyer, seller, nat: n.router !== undefined })
  }
  const buyerName = plan.publicBuyer === true ? (net.publicNodes.at(-1)?.name ?? 'pub0') : 'home1-n0'
  // the bootstrap node keeps its role (it is started first) and may also be the buyer
  for (const [i, n] of net.publicNodes.entries()) {
    const buys = n.name === buyerName
    add(n, buys && i > 0 ? 'buyer' : i === 0 ? 'bootstrap' : 'relay', plan.publicSellers && !buys, buys)
  }
  for (const n of net.homeNodes) {
    const sells = (n.router?.home !== 1 || plan.publicBuyer === true) && !plan.publicSellers
    add(n, n.name === buyerName ? 'buyer' : sells ? 'seller' : 'idle', sells)
  }
  const where = new Map(net.nodes.map((n) => [n.name, n]))
  const random = net.routers.filter((r) => r.fullyRandom).map((r) => `home${r.home}`)
  return {
    specs,
    natNodes: net.homeNodes.length,
    describe:
      `${net.publicNodes.length} public nodes and ${net.homeNodes.length} nodes in ${net.routers.length} homes ` +
      `(namespaces ${net.prefix}-*; fully-random NAT: ${random.join(', ') || 'none'})`,
    start: (spec, bootstrap, deadline) => {
      const node = where.get(spec.name) as NetNode
      return startNodeIn(
        procs,
        net,
        node,
        spec.name,
        join(base, spec.name),
        [
          ...internetNodeFlags(node, roles.get(spec.name) ?? 'idle', bootstrap),
          ...(plan.noRelays === true && node.router === undefined ? ['--no-relay-server'] : [])
        ],
        deadline,
        base,
        nodeFlags(spec.name)
      )
    },
    startWorker: (name, node, article, args) => startWorkerIn(procs, name, node as NsNodeProc, article, args),
    close: () => net.destroy()
  }
}
