/**
 * Helpers of this package's worker programs (`node/demo/worker-cli.ts`,
 * `node/blender/worker-cli.ts`): one work item from stdin within a limit, output that waits for
 * the stream, and error lines that never carry control characters or unbounded text.
 */

/** Longest error message a worker program prints: a message may quote (untrusted) work. */
export const MAX_MESSAGE = 200

/** `message` on one line: control characters become spaces, at most {@link MAX_MESSAGE} characters. */
export function oneLine(message: string): string {
  return message.replace(/\p{Cc}/gu, ' ').slice(0, MAX_MESSAGE)
}

/** All of stdin, or undefined as soon as it exceeds `limit` bytes (the rest is not read). */
export async function readStdin(limit: number): Promise<Uint8Array | undefined> {
  const parts: Buffer[] = []
  let total = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > limit) return undefined
    parts.push(chunk)
  }
  return new Uint8Array(Buffer.concat(parts, total))
}

/** Writes `data` and resolves once the stream took it. */
export function writeTo(stream: NodeJS.WriteStream, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())))
}

/** Exit status of a worker program for work it refused or could not do (a code on stderr). */
export const EXIT_BAD_WORK = 2
/** Exit status of a worker program for an unexpected failure (a bug). */
export const EXIT_BUG = 1

/**
 * Runs a worker program's `main` and exits with its status: at once when it is not 0 (stdin may
 * still hold unread bytes after an oversized work item: do not wait for it), with
 * {@link EXIT_BUG} when it throws.
 */
export function runWorkerProgram(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code
      if (code !== 0) process.exit(code)
    },
    (err: unknown) => {
      process.stderr.write(`worker failed: ${String(err)}\n`)
      process.exit(EXIT_BUG)
    }
  )
}
