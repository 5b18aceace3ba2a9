#!/bin/sh
':' //; MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}" exec node "$0" "$@"
// The package's command (package.json "bin"). It is a tracked, executable file because tsc
// writes dist/cli/main.js without the executable bit: `npx bitwrk-node` in a fresh clone runs
// this file through the shell, which needs the bit, whatever command built dist/.
// It runs the bundle `npm run build` makes, dist/bitwrk-node.mjs (scripts/bundle.ts: ~10 MiB
// less memory for an idle daemon, issue 14), unless a later `tsc` alone left it older than
// dist/cli/main.js; then, or without a bundle, it runs dist/cli/main.js.
// Run as a command, the file is a shell script first: its second line (a string and a comment
// to Node) starts Node on this file with two glibc malloc settings, each unless the environment
// sets it: MALLOC_ARENA_MAX=2 (glibc otherwise gives each thread that allocates — V8's platform
// workers, libuv's pool, LevelDB's compaction — an arena of its own, which an idle daemon keeps)
// and MALLOC_TRIM_THRESHOLD_=128 KiB (fixed, where glibc raises it up to 32 MiB after large frees
// and then keeps that much free memory). Together an idle daemon's resident memory is 3-6 MiB
// smaller (issue 14, scripts/bench/idle.ts). `node bin/bitwrk-node.js` skips the line;
// scripts/testnet/processes.ts (DAEMON_MALLOC_ENV) sets the same for the daemons it spawns.
import { statSync } from 'node:fs'

const bundle = new URL('../dist/bitwrk-node.mjs', import.meta.url)
const main = new URL('../dist/cli/main.js', import.meta.url)
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs
const built = mtime(bundle)
await import((built !== undefined && built >= (mtime(main) ?? 0) ? bundle : main).href)
