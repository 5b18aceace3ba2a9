import { createServer, type Server, type Socket } from 'node:net'

/** Concurrent connections one forwarder carries (a testnet polls with a handful at a time). */
export const MAX_PIPED_CONNECTIONS = 256

/**
 * A server that pipes every accepted connection to a fresh `connect()` socket, both ends torn
 * down when either closes or fails, at most {@link MAX_PIPED_CONNECTIONS} at once. `close()`
 * stops listening and destroys the connections still open. Both halves of the API forwarding
 * use it: `ns-forward.ts` (Unix socket → the namespace's 127.0.0.1) and `forward.ts`
 * (127.0.0.1 → that Unix socket).
 */
export function pipingServer(connect: () => Socket): { server: Server; close(): void } {
  const open = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect()
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
  server.maxConnections = MAX_PIPED_CONNECTIONS
  return {
    server,
    close() {
      server.close()
      for (const s of open) s.destroy()
    }
  }
}
