import v8 from 'node:v8'

/**
 * V8 settings of a long-running daemon (issue 14: an idle node ≤ 80 MiB RSS), set at run time
 * with `v8.setFlagsFromString`; a flag given to Node itself (command line or `NODE_OPTIONS`)
 * wins. `cli/main.ts` applies them before it loads the daemon's modules, as start-up is where
 * the heap grows. Start-up runs with `--optimize-for-size`, turned off by the returned function
 * once the daemon is ready: loading some 700 modules otherwise leaves an old space about a third
 * larger than its live data and a new space grown to 32 MiB, which V8 does not give back while
 * idle (the idle bench, scripts/bench/idle.ts, has the breakdown: 115.7 → ~94 MiB alone, 88
 * with the memory watch's young-generation collections). Left on, the flag cost 5 to 20 % more
 * CPU at work (more frequent full collections). The new space an idle node keeps is the memory
 * watch's part (node/host/memory-watch.ts, `youngCollectMs`): capping it for good
 * (`--semi-space-growth-factor=1`) made scavenges take 2 to 3 times as long at work, and
 * `--max-semi-space-size` set at run time does nothing (V8 reads it when the heap is made).
 * Idempotent: a second call sets nothing; every returned function ends the same start-up.
 */
export function leanHeap(): () => void {
  if (!applied) {
    applied = true
    const given = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].join(' ')
    if (!/--(no-)?optimize[-_]for[-_]size/.test(given)) {
      v8.setFlagsFromString('--optimize-for-size')
      startingUp = true
    }
  }
  return startedUp
}

let applied = false
let startingUp = false

/** Ends the start-up part of {@link leanHeap}. */
function startedUp(): void {
  if (!startingUp) return
  startingUp = false
  v8.setFlagsFromString('--no-optimize-for-size')
}
