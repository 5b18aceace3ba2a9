/**
 * Daemons in the emulated internet: a `bitwrk-node start` inside a node's namespace, its API
 * kept on that namespace's 127.0.0.1 and reached from here through a forwarder
 * (`forward.ts`); exec workers run next to their daemon, in its namespace.
 */
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Launch, NodeProc, ProcessGroup, ProgressDeadline } from '../processes.js'
import { type ForwardedApi, forwardApi } from './forward.js'
import type { Internet, NetNode } from './topology.js'

/** The libp2p port every daemon listens on in its namespace (each namespace has its own ports). */
export const NODE_PORT = 4001

/** A daemon running in a namespace; `api` is the forwarded URL on this process's side. */
export interface NsNodeProc extends NodeProc {
  readonly net: NetNode
  /** The API URL inside the namespace (what workers there use). */
  readonly innerApi: string
  readonly forward: ForwardedApi
  /** Starts processes in this node's namespace. */
  readonly launch: Launch
}

/** The role a daemon plays in the market of an internet testnet. */
export type NodeRole = 'bootstrap' | 'relay' | 'buyer' | 'seller' | 'idle'

/**
 * The `start` flags of one daemon in the emulated internet: where it listens and whom it joins.
 * Public nodes listen on their 198.18 address, NATed ones on every interface of their
 * namespace. This is the one place later flags (`--announce`, a relay server, STUN, WebRTC)
 * are added per node and role.
 */
export function internetNodeFlags(node: NetNode, _role: NodeRole, bootstrap: readonly string[]): string[] {
  const listen =
    node.router === undefined ? `/ip4/${node.address}/tcp/${NODE_PORT}` : `/ip4/0.0.0.0/tcp/${NODE_PORT}`
  // every node: WebRTC, relayed signalling and reversal (DIRECT-4, DIRECT-9); public nodes also
  // serve as relays (NET-13, on by default while public) and STUN on their TCP port (DIRECT-1)
  return [
    '--listen',
    listen,
    '--webrtc',
    ...(bootstrap.length > 0 ? ['--bootstrap', bootstrap.join(',')] : [])
  ]
}

/** The API port of an `http://127.0.0.1:<port>` URL the daemon printed. */
function apiPort(api: string): number {
  const port = Number(new URL(api).port)
  if (!Number.isInteger(port) || port < 1) throw new Error(`no API port in '${api}'`)
  return port
}

/**
 * Starts `bitwrk-node start` as `name` in `node`'s namespace with `flags`, waits for its ready
 * line, then forwards its API through a Unix socket in `socketDir` (a directory only we can
 * read). The forwarder is tracked by `procs` and closed when the daemon exits.
 */
export async function startNodeIn(
  procs: ProcessGroup,
  net: Internet,
  node: NetNode,
  name: string,
  dataDir: string,
  flags: string[],
  deadline: ProgressDeadline | number,
  socketDir: string,
  nodeFlags: string[] = []
): Promise<NsNodeProc> {
  const launch: Launch = (cmd, args, opts) => net.spawn(node.ns, cmd, args, opts)
  const proc = await procs.startNode(name, dataDir, flags, deadline, nodeFlags, launch)
  const forward = await forwardApi(net, node.ns, join(socketDir, `${name}.sock`), apiPort(proc.api), (c) =>
    procs.track(`fwd-${name}`, c)
  )
  const closeWithDaemon = (): void => forward.close()
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) closeWithDaemon()
  else proc.child.once('exit', closeWithDaemon)
  return { ...proc, api: forward.url, innerApi: proc.api, net: node, forward, launch }
}

/** Starts an exec worker of `article` in the daemon's namespace, against its inner API. */
export function startWorkerIn(
  procs: ProcessGroup,
  name: string,
  node: NsNodeProc,
  article: string,
  args?: readonly string[]
): ChildProcess {
  return procs.startWorker(name, node.innerApi, article, node.launch, args)
}
