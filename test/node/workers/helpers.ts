import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A local HTTP worker on 127.0.0.1 port 0 whose behaviour per job is a function. */
export interface LocalWorker {
  url: string
  server: Server
  /** Bodies received, in order. */
  jobs: Buffer[]
  /** Content types received. */
  contentTypes: (string | undefined)[]
  close(): Promise<void>
}

/** Starts a worker that answers each job with `answer(work)` (default: 200, upper-cased body). */
export async function startLocalWorker(
  answer: (work: Buffer, res: ServerResponse, req: IncomingMessage) => void = (work, res) => {
    res.writeHead(200).end(Buffer.from(work.toString('latin1').toUpperCase(), 'latin1'))
  }
): Promise<LocalWorker> {
  const jobs: Buffer[] = []
  const contentTypes: (string | undefined)[] = []
  const server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      const work = Buffer.concat(parts)
      jobs.push(work)
      contentTypes.push(req.headers['content-type'])
      answer(work, res, req)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/work`,
    server,
    jobs,
    contentTypes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
