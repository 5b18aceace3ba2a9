#!/usr/bin/env node
// The package's command (package.json "bin"). It is a tracked, executable file because tsc
// writes dist/cli/main.js without the executable bit: `npx bitwrk-node` in a fresh clone runs
// this file through the shell, which needs the bit, whatever command built dist/.
import '../dist/cli/main.js'
