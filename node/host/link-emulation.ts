/**
 * Emulated link latency for benchmarks and tests (issue 14): this kernel has no `netem`, so the
 * delay is added in user space, between a connection's decrypted bytes and the stream muxer. Each
 * batch of incoming bytes is handed to Yamux after a delay drawn for it, in arrival order (a
 * later batch never overtakes an earlier one, as on a TCP connection); both ends delay what they
 * receive, so each direction of a link gets its own one-way delay. The Noise handshake before the
 * muxer is not delayed: the emulation covers the traffic of a running connection, not its set-up.
 * Never used by a production node (the host option is for harnesses only).
 */
import type { MessageStream } from '@libp2p/interface'

/** Events of the muxer's underlying connection that must keep their order with the data. */
const ORDERED = new Set(['message', 'close', 'remoteCloseWrite'])

type Listener = EventListenerOrEventListenerObject

/**
 * A view of `conn` whose `message` and `close` listeners hear each event `delayMs()` ms later
 * (drawn per event; never before an earlier event); everything else is `conn` itself.
 */
export function delayInbound(conn: MessageStream, delayMs: () => number): MessageStream {
  const queue: { due: number; fire: () => void }[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastDue = 0
  const wrapped = new Map<Listener, EventListener>()
  const pump = (): void => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) queue.shift()?.fire()
    const head = queue[0]
    if (head !== undefined) timer = setTimeout(pump, Math.max(0, head.due - now))
  }
  const enqueue = (fire: () => void): void => {
    const now = performance.now()
    lastDue = Math.max(lastDue, now + Math.max(0, delayMs()))
    queue.push({ due: lastDue, fire })
    if (timer === undefined) timer = setTimeout(pump, Math.max(0, lastDue - now))
  }
  const delayed = (listener: Listener): EventListener => {
    let w = wrapped.get(listener)
    if (w === undefined) {
      w = (evt: Event) => {
        // the bytes are copied: the connection may reuse its buffers once the event returned
        const held = hold(evt)
        enqueue(() => (typeof listener === 'function' ? listener(held) : listener.handleEvent(held)))
      }
      wrapped.set(listener, w)
    }
    return w
  }
  return new Proxy(conn, {
    get(target, prop) {
      if (prop === 'addEventListener')
        return (type: string, listener: Listener | null, options?: AddEventListenerOptions | boolean) => {
          if (listener === null) return
          target.addEventListener(
            type as 'message',
            (ORDERED.has(type) ? delayed(listener) : listener) as never,
            options
          )
        }
      if (prop === 'removeEventListener')
        return (type: string, listener: Listener | null, options?: EventListenerOptions | boolean) => {
          if (listener === null) return
          target.removeEventListener(
            type as 'message',
            (ORDERED.has(type) ? (wrapped.get(listener) ?? listener) : listener) as never,
            options
          )
        }
      const value: unknown = Reflect.get(target, prop, target)
      // methods run on the connection itself; a function-valued field (its logger) is as it is
      return typeof value === 'function' && !Object.hasOwn(target, prop) ? value.bind(target) : value
    }
  })
}

/** A copy of a `message` event whose bytes outlive the dispatch; other events as they are. */
function hold(evt: Event): Event {
  const data: unknown = (evt as { data?: unknown }).data
  if (data === undefined) return evt
  const bytes =
    data instanceof Uint8Array ? data.slice() : (data as { subarray: () => Uint8Array }).subarray().slice()
  return Object.assign(new Event(evt.type), { data: bytes })
}

/** A one-way delay distribution: `meanMs ± jitterMs`, uniform. */
export interface LinkDelay {
  /** Mean one-way delay, ms. */
  readonly meanMs: number
  /** Half-width of the uniform jitter around the mean, ms. */
  readonly jitterMs: number
}

/** Draws from `d` with `random` (default `Math.random`): uniform in `[mean − jitter, mean + jitter]`, at least 0. */
export function drawDelay(d: LinkDelay, random: () => number = Math.random): number {
  return Math.max(0, d.meanMs + (2 * random() - 1) * d.jitterMs)
}
