/**
 * Helpers of the namespace tests: the suite guard (root, `ip`, `nft`), small Node programs run
 * inside a namespace, and waiting for their output lines under a deadline.
 */
import type { ChildProcess } from 'node:child_process'
import type { Internet } from '../../scripts/testnet/internet/index.js'
import { internetUnavailable, NS_PREFIX } from '../../scripts/testnet/internet/index.js'

/** Deadline of one wait for a program's line (a Node start in a namespace: ~0.1 s idle). */
export const LINE_MS = 15_000

let said = false

/**
 * Skips the calling suite when the emulated internet cannot be built here, saying why once on
 * stderr (CI runs as root with iproute2 and nftables, so it runs there).
 */
export function requireInternet(ctx: Mocha.Context): void {
  const why = internetUnavailable()
  if (why === undefined) return
  if (!said) process.stderr.write(`\n  namespace tests not run: ${why}\n`)
  said = true
  ctx.skip()
}

/**
 * `ip netns list` as far as this test can change it: the namespaces that were there before
 * (`initial`) and those named for an owner pid in `owners` (this process, a testnet it runs).
 * Namespaces that parallel runs on the same machine create and remove are left out, so "as
 * before" means: ours are all gone and nobody else's was touched.
 */
export function ownView(
  list: readonly string[],
  initial: readonly string[],
  owners: readonly number[]
): string[] {
  return list.filter((n) => initial.includes(n) || owners.some((pid) => n.startsWith(`${NS_PREFIX}-${pid}-`)))
}

/** Runs `node -e script args…` inside `ns`; the caller reads its lines with {@link nextLine}. */
export function nodeIn(net: Internet, ns: string, script: string, args: string[] = []): ChildProcess {
  return net.spawn(ns, process.execPath, ['-e', script, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * Resolves with the first stdout line of `child` that `match` accepts; rejects when the child
 * exits first or after `ms`.
 */
export function nextLine(
  child: ChildProcess,
  match: (line: string) => boolean,
  ms = LINE_MS
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = ''
    let err = ''
    const done = (f: () => void): void => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      f()
    }
    const onData = (d: Buffer): void => {
      buf += d.toString()
      const lines = buf.split('\n')
      buf = lines.pop() ?? ''
      const hit = lines.find(match)
      if (hit !== undefined) done(() => resolve(hit))
    }
    const onExit = (code: number | null): void =>
      done(() => reject(new Error(`program exited (${code}) before the line: ${err.trim()}`)))
    const timer = setTimeout(
      () => done(() => reject(new Error(`no matching line in ${ms} ms: ${err.trim()}`))),
      ms
    )
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000)
    })
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
  })
}

/** Waits for `child` to exit (under `ms`) and returns its stdout. */
export function output(child: ChildProcess, ms = LINE_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`program not done in ${ms} ms`))
    }, ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(out)
    })
  })
}

/** A TCP server on `host`:0 that prints `port <p>` and then `from <address>:<port>` per connection. */
export const TCP_SERVER = `
const net = require('node:net')
const s = net.createServer((c) => { console.log('from ' + c.remoteAddress + ':' + c.remotePort); c.end('hi') })
s.listen(0, process.argv[1], () => console.log('port ' + s.address().port))`

/**
 * A TCP client connecting to argv host:port with a 2 s deadline: prints `connected`, `timeout`
 * or `error <code>`, then exits.
 */
export const TCP_CLIENT = `
const net = require('node:net')
const c = net.connect({ host: process.argv[1], port: Number(process.argv[2]) })
c.setTimeout(2000)
c.on('connect', () => { console.log('connected'); c.end() })
c.on('timeout', () => { console.log('timeout'); c.destroy() })
c.on('error', (e) => console.log('error ' + e.code))`

/** Two UDP sockets on `host`:0 echoing each sender's address as `address:port`; prints `ports <a> <b>`. */
export const UDP_ECHO = `
const dgram = require('node:dgram')
const open = (cb) => { const s = dgram.createSocket('udp4'); s.on('message', (m, r) => s.send(r.address + ':' + r.port, r.port, r.address)); s.bind(0, process.argv[1], () => cb(s)) }
open((a) => open((b) => console.log('ports ' + a.address().port + ' ' + b.address().port)))`

/**
 * One UDP socket sending to argv host at ports argv[2] and argv[3] from the same source port
 * (resent every 200 ms until answered, up to 5 s); prints `local <port> mapped <a> <b>`.
 */
export const UDP_PROBE = `
const dgram = require('node:dgram')
const [host, p1, p2] = process.argv.slice(1)
const s = dgram.createSocket('udp4')
const seen = new Map()
s.on('message', (m, r) => {
  seen.set(r.port, m.toString())
  if (seen.size === 2) {
    console.log('local ' + s.address().port + ' mapped ' + seen.get(Number(p1)) + ' ' + seen.get(Number(p2)))
    process.exit(0)
  }
})
s.bind(0, () => {
  const send = () => { for (const p of [p1, p2]) if (!seen.has(Number(p))) s.send('x', Number(p), host) }
  send()
  setInterval(send, 200)
  setTimeout(() => { console.log('timeout'); process.exit(1) }, 5000)
})`
