#!/usr/bin/env node
// The package's command (package.json "bin"). It is a tracked, executable file because tsc
// writes dist/cli/main.js without the executable bit: `npx bitwrk-node` in a fresh clone runs
// this file through the shell, which needs the bit, whatever command built dist/.
// It runs the bundle `npm run build` makes, dist/bitwrk-node.mjs (scripts/bundle.ts: ~10 MiB
// less memory for an idle daemon, issue 14), unless a later `tsc` alone left it older than
// dist/cli/main.js; then, or without a bundle, it runs dist/cli/main.js.
import { statSync } from 'node:fs'

const bundle = new URL('../dist/bitwrk-node.mjs', import.meta.url)
const main = new URL('../dist/cli/main.js', import.meta.url)
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs
const built = mtime(bundle)
await import((built !== undefined && built >= (mtime(main) ?? 0) ? bundle : main).href)
