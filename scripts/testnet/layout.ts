/**
 * Where the testnet's daemons run and what each does: on 127.0.0.1 ({@link loopbackLayout}), or
 * in the emulated internet's namespaces (`internet/layout.ts`). The run itself (run.ts) only
 * sees this interface.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import type { NodeProc, ProcessGroup, ProgressDeadline } from './processes.js'

/** One daemon of a layout. */
export interface NodeSpec {
  readonly name: string
  /** Buys the tiles (exactly one node of a layout). */
  readonly buyer: boolean
  /** Gets a SELL mandate and demo workers. */
  readonly seller: boolean
  /** Behind a NAT (counts towards `nat_nodes`). */
  readonly nat: boolean
}

/** Where and how the testnet's daemons and workers start. */
export interface Layout {
  /** Every daemon in start order; the first is the bootstrap node the others join. */
  readonly specs: readonly NodeSpec[]
  /** Nodes behind a NAT; undefined on loopback (the summary then has no `nat_nodes`). */
  readonly natNodes: number | undefined
  /** One line on where the nodes run, for the log. */
  readonly describe: string
  /** Starts `spec`'s daemon joining `bootstrap`; its `api` is reachable from this process. */
  start(spec: NodeSpec, bootstrap: readonly string[], deadline: ProgressDeadline): Promise<NodeProc>
  /** Starts a demo worker for `node`, next to it (`args`: worker flags instead of the demo's `--exec`). */
  startWorker(name: string, node: NodeProc, article: string, args?: readonly string[]): ChildProcess
  /** Removes what the layout built (not the processes: the group stops them); idempotent. */
  close(): Promise<void>
}

/**
 * The loopback testnet: `nodes` daemons on 127.0.0.1, node0 the bootstrap node and the buyer,
 * every other node a seller; `daemonArgs` adds `bitwrk-node start` flags per node.
 */
export function loopbackLayout(
  procs: ProcessGroup,
  base: string,
  nodes: number,
  nodeFlags: (name: string) => string[],
  daemonArgs: (name: string) => string[] = () => []
): Layout {
  const specs = Array.from({ length: nodes }, (_, i) => ({
    name: `node${i}`,
    buyer: i === 0,
    seller: i > 0,
    nat: false
  }))
  return {
    specs,
    natNodes: undefined,
    describe: `${nodes} nodes on 127.0.0.1`,
    start: (spec, bootstrap, deadline) =>
      procs.startNode(
        spec.name,
        join(base, spec.name),
        [...(bootstrap.length > 0 ? ['--bootstrap', bootstrap.join(',')] : []), ...daemonArgs(spec.name)],
        deadline,
        nodeFlags(spec.name)
      ),
    startWorker: (name, node, article, args) => procs.startWorker(name, node.api, article, spawn, args),
    close: async () => {}
  }
}
