/**
 * `node ns-forward.js <unix-socket-path> <port>`, run inside a node's network namespace
 * (`ip netns exec NS …`): accepts on the Unix socket (mode 0600) and pipes every connection
 * to 127.0.0.1:<port>, the daemon's local API there. Filesystem paths cross network
 * namespaces, so the controlling process reaches the API without an interface into the
 * topology, and the API still sees a loopback client. Prints `ready` once listening; exits
 * when its stdin closes (the controller ended or stopped it) or on SIGTERM.
 */
import { createConnection } from 'node:net'
import { pipingServer } from './internet/pipe.js'

function main(): void {
  const [path, portArg] = process.argv.slice(2)
  const port = Number(portArg)
  if (path === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: ns-forward <unix-socket-path> <port>\n')
    process.exit(2)
  }
  const { server, close } = pipingServer(() => createConnection({ host: '127.0.0.1', port }))
  const stop = (): void => {
    close()
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
