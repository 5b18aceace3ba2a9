/**
 * The TCP ports this process listens on, read from /proc (Linux): to find every listener a
 * component opened, documented or not (DESIGN.md invariant 11, "each listener counts").
 */
import { readdir, readFile, readlink } from 'node:fs/promises'

async function listeningInodes(): Promise<Map<string, number>> {
  const ports = new Map<string, number>()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // columns: sl local_address rem_address st … inode (10th)
      if (f.length < 10 || f[3] !== '0A') continue
      const port = Number.parseInt((f[1] as string).split(':')[1] as string, 16)
      ports.set(f[9] as string, port)
    }
  }
  return ports
}

/** The TCP ports this process has listening sockets on (any address). */
export async function ownListeningPorts(): Promise<Set<number>> {
  const byInode = await listeningInodes()
  const ports = new Set<number>()
  for (const fd of await readdir('/proc/self/fd')) {
    let target: string
    try {
      target = await readlink(`/proc/self/fd/${fd}`)
    } catch {
      continue
    }
    const m = /^socket:\[(\d+)\]$/.exec(target)
    const port = m === null ? undefined : byInode.get(m[1] as string)
    if (port !== undefined) ports.add(port)
  }
  return ports
}
