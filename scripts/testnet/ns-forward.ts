/**
 * `node ns-forward.js <unix-socket-path> <port>`, run inside a node's network namespace
 * (`ip netns exec NS …`): accepts on the Unix socket (mode 0600) and pipes every connection
 * to 127.0.0.1:<port>, the daemon's local API there. Filesystem paths cross network
 * namespaces, so the controlling process reaches the API without an interface into the
 * topology, and the API still sees a loopback client. Prints `ready` once listening; exits
 * when its stdin closes (the controller ended or stopped it) or on SIGTERM.
 */
import { createConnection, createServer, type Socket } from 'node:net'

/** Concurrent connections one forwarder carries (a testnet polls with a handful at a time). */
const MAX_CONNECTIONS = 256

function main(): void {
  const [path, portArg] = process.argv.slice(2)
  const port = Number(portArg)
  if (path === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: ns-forward <unix-socket-path> <port>\n')
    process.exit(2)
  }
  const open = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port })
    open.add(client)
    const end = (): void => {
      open.delete(client)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.maxConnections = MAX_CONNECTIONS
  const stop = (): void => {
    server.close()
    for (const s of open) s.destroy()
    process.exit(0)
  }
  // the socket is created 0600: umask before listen, so there is no window with wider modes
  process.umask(0o177)
  server.listen(path, () => process.stdout.write('ready\n'))
  server.on('error', (err) => {
    process.stderr.write(`ns-forward: ${err.message}\n`)
    process.exit(1)
  })
  process.stdin.on('end', stop).on('error', stop).resume()
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main()
