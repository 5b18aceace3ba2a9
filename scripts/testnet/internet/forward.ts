/**
 * The controller's side of reaching a daemon's API inside a namespace (issue 15 §2): a
 * forwarder process in the namespace (`ns-forward.js`) accepts on a Unix socket in a per-run
 * directory (0700, the socket 0600) and pipes to the daemon's 127.0.0.1:<port> there; here an
 * in-process TCP listener on 127.0.0.1:0 pipes each connection to that socket, so clients keep
 * using `http://127.0.0.1:<port>` URLs.
 */
import type { ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pipingServer } from './pipe.js'
import type { Internet } from './topology.js'

/** The compiled forwarder (this file runs from dist/scripts/testnet/internet/). */
export const NS_FORWARD = fileURLToPath(new URL('../ns-forward.js', import.meta.url))

/** How long a forwarder may take to print `ready` (a Node start: ~0.1 s idle, seconds under load). */
export const FORWARD_READY_MS = 15_000

/** Longest Unix socket path Linux takes (`sun_path` is 108 bytes with its terminating NUL, unix(7)). */
const MAX_SOCKET_PATH = 107

/** A daemon's API reachable from this process. */
export interface ForwardedApi {
  /** `http://127.0.0.1:<port>` on this process's side. */
  readonly url: string
  /** The forwarder process inside the namespace. */
  readonly child: ChildProcess
  /** Stops the listener, its connections and the forwarder; idempotent. */
  close(): void
}

/**
 * A local TCP listener on 127.0.0.1:0 piping each connection to the Unix socket `path`.
 * Returns its URL and a close that ends it and every connection it carries.
 */
export async function exposeUnixSocket(path: string): Promise<{ url: string; close(): void }> {
  const { server, close } = pipingServer(() => createConnection(path))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('listener has no TCP address')
  let closed = false
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close() {
      if (closed) return
      closed = true
      close()
    }
  }
}

/**
 * Starts the forwarder for the API on `port` inside `ns` (socket `path`), waits for it to
 * listen, and exposes it locally. `track` registers the forwarder with the caller's process
 * group (teardown by pid). The forwarder exits when its stdin closes, so a crashed controller
 * leaves none behind.
 */
export async function forwardApi(
  net: Internet,
  ns: string,
  path: string,
  port: number,
  track: (child: ChildProcess) => void = () => {}
): Promise<ForwardedApi> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new RangeError(`socket path longer than ${MAX_SOCKET_PATH} bytes (set a shorter TMPDIR): ${path}`)
  const child = net.spawn(ns, process.execPath, [NS_FORWARD, path, String(port)], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  track(child)
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-1000)
  })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`forwarder in ${ns} not ready in ${FORWARD_READY_MS} ms`)),
        FORWARD_READY_MS
      )
      let out = ''
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        if (/^ready$/m.test(out)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`forwarder in ${ns} exited (${code}): ${err.trim()}`))
      })
    })
  } catch (e) {
    child.kill('SIGKILL')
    throw e
  }
  const local = await exposeUnixSocket(path)
  let closed = false
  return {
    url: local.url,
    child,
    close() {
      if (closed) return
      closed = true
      local.close()
      child.stdin?.end()
      child.kill('SIGTERM')
    }
  }
}
