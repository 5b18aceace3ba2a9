import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../../node/api/server.js'
import { DAEMON_FILE_NAME, startDaemon } from '../../node/daemon/index.js'
import type { HostDirectOptions } from '../../node/host/direct-setup.js'
import { stunUrl } from '../../node/host/webrtc.js'
import { createLogger } from '../../node/logger.js'
import { parseWorkerAllowList, type WorkerAllowRule } from '../../node/workers/index.js'
import { BitwrkError, isBitwrkError } from '../../protocol/errors.js'
import { DEFAULT_THRESHOLDS } from '../../protocol/reputation/index.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'
import { leanHeap } from './heap.js'

/** Usage of `bitwrk-node start`. */
export const START_USAGE = `usage: bitwrk-node start [--data-dir DIR] [--listen MA[,MA…]] [--announce MA[,MA…]]
                        [--relay-server | --no-relay-server] [--bootstrap MA[,MA…]]
                        [--api-port P] [--api-host H] [--api-allow-host NAME[,NAME…]]
                        [--articles A[,B…]] [--min-trust S] [--worker-allow HOST:PORTS[,…]]
                        [--webrtc] [--stun-port P|tcp|off] [--stun HOST:PORT[,…]] [--no-provide]

Runs the node until SIGINT/SIGTERM (a second signal exits at once). Prints the peer id, the
listen addresses and the API URL; writes <data-dir>/${DAEMON_FILE_NAME} while it runs.
  --data-dir DIR   data directory (default $BITWRK_DATA_DIR or ~/.bitwrk-node); identity created on first start
  --listen MA      libp2p listen multiaddrs (default /ip4/127.0.0.1/tcp/0, loopback only); any
                   address, e.g. /ip4/0.0.0.0/tcp/4001,/ip6/::/tcp/4001 (network.md NET-1)
  --announce MA    multiaddrs to advertise instead of the listen addresses (a port forward's
                   public address, a DNS name); loopback and private ones are only told to
                   peers of that scope (NET-2, NET-4)
  --relay-server   serve as a circuit relay even when AutoNAT has not found the node public
  --no-relay-server  never serve as a circuit relay (default: serve while public; NET-12)
  --bootstrap MA   peers to join through
  --api-port P     local API port (default ${DEFAULT_API_PORT}; 0 picks a free one)
  --api-host H     local API interface (default ${DEFAULT_API_HOST}); beyond loopback the
                   API needs the token of <data-dir>/.cookie for changes and remote reads
  --api-allow-host NAME  a host name the API answers to besides localhost and IP literals
                   (e.g. the machine's LAN name; DNS-rebinding guard, API-2)
  --articles A,B   articles to follow (default net.bitwrk/rays/0); a buy, a worker registration
                   or a mandate for another article makes the node follow it too (WRK-11)
  --min-trust S    no transaction with a counterparty whose reputation score is below S
                   (-0.75 < S <= 1, default ${DEFAULT_THRESHOLDS.establishMin}; REP-6)
  --worker-allow R where workers' push URLs may point: HOST:PORT, HOST:LOW-HIGH or HOST:*
                   (e.g. 127.0.0.1:9000-9100,localhost:7000; localhost = every loopback
                   address). Default: any loopback port (WRK-9).
  --webrtc         direct connections between NATed peers: circuit-relay client, WebRTC through
                   relays, connection reversal (DIRECT-4, DIRECT-7). Default off.
  --stun-port P    run the STUN service (DIRECT-1) on UDP port P; 'tcp' = the TCP listen port
                   number (announced to peers), 'off' = none. Default: 'tcp' when a listen
                   address is not loopback, else off.
  --stun H:P       STUN servers for WebRTC's ICE besides those learnt from peers (DIRECT-5);
                   never a public STUN server
  --no-provide     publish no file: nothing is announced on the DHT nor served to any peer but a
                   transaction's counterparty (default: uploads, received work, accepted results
                   and files fetched by key are provided while held; CHUNK-16)
Logs go to stderr (LOG_LEVEL=debug for more).
`

/** Exit codes after a signal (128 + signal number, the shell convention). */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 }

/** Grace after a clean stop before the process exits regardless of lingering timers. */
const FORCE_EXIT_MS = 500

function list(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
}

/** The rules of `--worker-allow` (WRK-9); a bad entry is a usage error naming the entry. */
function workerAllowFlag(text: string | undefined): WorkerAllowRule[] | undefined {
  if (text === undefined) return undefined
  try {
    const rules = parseWorkerAllowList(text)
    if (rules.length > 0) return rules
  } catch (err) {
    if (!isBitwrkError(err)) throw err
    throw new BitwrkError(CliCode.badArgument, `bad --worker-allow: ${err.message}`, {
      detail: err.code
    })
  }
  throw new BitwrkError(CliCode.badArgument, 'bad --worker-allow: no entry')
}

/**
 * `--webrtc`, `--stun-port`, `--stun` → the host's direct-connection options (DIRECT-1, DIRECT-4,
 * DIRECT-5); undefined when none applies. The STUN service defaults to the TCP port number when
 * a listen address is not loopback (a node on a real network), else off.
 */
function directFlags(
  webrtc: boolean,
  stunPortText: string | undefined,
  stun: string[] | undefined,
  listen: string[] | undefined
): HostDirectOptions | undefined {
  const loopback = (listen ?? ['/ip4/127.0.0.1/']).every(
    (a) => a.startsWith('/ip4/127.') || a.startsWith('/ip6/::1/')
  )
  let stunPort: number | 'tcp' | undefined = loopback ? undefined : 'tcp'
  if (stunPortText === 'off') stunPort = undefined
  else if (stunPortText === 'tcp') stunPort = 'tcp'
  else if (stunPortText !== undefined) {
    const n = Number(stunPortText)
    if (!/^\d{1,5}$/.test(stunPortText) || n < 1 || n > 65535)
      throw new BitwrkError(CliCode.badArgument, `bad --stun-port '${stunPortText}' (a port, tcp or off)`)
    stunPort = n
  }
  if (stun !== undefined && !webrtc) throw new BitwrkError(CliCode.badArgument, '--stun needs --webrtc')
  if (!webrtc && stunPort === undefined) return undefined
  for (const s of stun ?? []) {
    try {
      stunUrl(s)
    } catch {
      throw new BitwrkError(CliCode.badArgument, `bad --stun '${s}' (host:port)`)
    }
  }
  return {
    ...(webrtc ? { webrtc: stun !== undefined ? { stun } : true } : { reversal: false }),
    ...(stunPort !== undefined ? { stunPort } : {})
  }
}

/**
 * `bitwrk-node start`: starts the daemon and waits for SIGINT/SIGTERM; the first signal stops
 * it cleanly (exit 0), a second one exits at once.
 */
export async function startCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let unlisten = (): void => {}
  const started = leanHeap()
  try {
    if (argv.includes('--help')) {
      io.stdout.write(START_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(
      argv,
      {
        'data-dir': 'string',
        listen: 'string',
        announce: 'string',
        'relay-server': 'boolean',
        'no-relay-server': 'boolean',
        bootstrap: 'string',
        'api-port': 'string',
        'api-host': 'string',
        'api-allow-host': 'string',
        articles: 'string',
        'min-trust': 'string',
        'worker-allow': 'string',
        webrtc: 'boolean',
        'stun-port': 'string',
        stun: 'string',
        'no-provide': 'boolean'
      },
      { min: 0, max: 0 }
    )
    const portText = stringFlag(args, 'api-port')
    const apiPort = portText === undefined ? DEFAULT_API_PORT : Number(portText)
    if (!/^\d{1,5}$/.test(portText ?? '0') || apiPort > 65535)
      throw new BitwrkError(CliCode.badArgument, `bad --api-port '${portText}'`)
    const dataDir = resolveDataDir(stringFlag(args, 'data-dir'), io)
    const listen = list(stringFlag(args, 'listen'))
    const announce = list(stringFlag(args, 'announce'))
    if (args.flags['relay-server'] === true && args.flags['no-relay-server'] === true)
      throw new BitwrkError(CliCode.badArgument, '--relay-server and --no-relay-server exclude each other')
    const relayServer =
      args.flags['relay-server'] === true ? true : args.flags['no-relay-server'] === true ? false : undefined
    const bootstrap = list(stringFlag(args, 'bootstrap'))
    const articles = list(stringFlag(args, 'articles'))
    const apiHost = stringFlag(args, 'api-host')
    const apiAllowedHosts = list(stringFlag(args, 'api-allow-host'))
    for (const h of apiAllowedHosts ?? [])
      if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(h))
        throw new BitwrkError(CliCode.badArgument, `bad --api-allow-host '${h}' (a DNS name)`)
    const minTrustText = stringFlag(args, 'min-trust')
    const minTrust = minTrustText === undefined ? undefined : Number(minTrustText)
    if (
      minTrust !== undefined &&
      (!/^-?\d+(\.\d+)?$/.test(minTrustText ?? '') || minTrust <= DEFAULT_THRESHOLDS.blocked || minTrust > 1)
    )
      throw new BitwrkError(CliCode.badArgument, `bad --min-trust '${minTrustText}'`)
    const workerAllow = workerAllowFlag(stringFlag(args, 'worker-allow'))
    const direct = directFlags(
      args.flags.webrtc === true,
      stringFlag(args, 'stun-port'),
      list(stringFlag(args, 'stun')),
      listen
    )
    // Listening before anything starts: without a listener SIGTERM kills the process outright,
    // and a signal during start-up must still stop what was started.
    const signalled = new Promise<string>((resolve) => {
      const on = (sig: string): void => {
        process.off('SIGINT', on)
        process.off('SIGTERM', on)
        // a second signal: the user does not want to wait for the clean stop
        const now = (s: NodeJS.Signals): void => process.exit(SIGNAL_EXIT[s] ?? EXIT.failure)
        process.once('SIGINT', now)
        process.once('SIGTERM', now)
        resolve(sig)
      }
      process.on('SIGINT', on)
      process.on('SIGTERM', on)
      unlisten = () => {
        process.off('SIGINT', on)
        process.off('SIGTERM', on)
      }
    })
    const logger = createLogger({ destination: process.stderr })
    const daemon = await startDaemon({
      dataDir,
      apiPort,
      logger,
      ...(listen !== undefined ? { listen } : {}),
      ...(announce !== undefined ? { announce } : {}),
      ...(relayServer !== undefined ? { relayServer } : {}),
      ...(bootstrap !== undefined ? { bootstrap } : {}),
      ...(articles !== undefined ? { articles } : {}),
      ...(apiHost !== undefined ? { apiHost } : {}),
      ...(apiAllowedHosts !== undefined ? { apiAllowedHosts } : {}),
      ...(workerAllow !== undefined ? { workerAllow } : {}),
      ...(direct !== undefined ? { direct } : {}),
      ...(args.flags['no-provide'] === true ? { provide: false } : {}),
      // a stricter establish threshold raises low trust with it (REP-6: establishMin <= lowTrust)
      ...(minTrust !== undefined
        ? { trust: { establishMin: minTrust, lowTrust: Math.max(minTrust, DEFAULT_THRESHOLDS.lowTrust) } }
        : {})
    }).finally(started)
    const { info } = daemon
    io.stdout.write(`peer id: ${info.peerId}\naddress: ${info.address}\n`)
    for (const a of info.listen) io.stdout.write(`listen: ${a}\n`)
    io.stdout.write(`api: ${info.apiUrl}\ndata dir: ${dataDir}\nready\n`)
    const signal = await signalled
    io.stdout.write(`stopping (${signal})\n`)
    await daemon.stop()
    io.stdout.write('stopped\n')
    // Everything is closed; a library timer that still lingers must not keep the process
    // alive after a requested stop (unref: it never delays a process that is done anyway).
    setTimeout(() => process.exit(EXIT.ok), FORCE_EXIT_MS).unref()
    return EXIT.ok
  } catch (err) {
    unlisten()
    return reportError(err, 'start', io)
  } finally {
    started()
  }
}
