/**
 * Node 20 has no `Promise.withResolvers` (added in Node 22); libp2p 3 (it-queue, mortice,
 * @libp2p/utils, yamux, ping) calls it at construction time. Import this module first in every
 * entry point. See notes/libp2p-stack.md, pitfall 1.
 */
type Resolvers<T> = {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

export {}
