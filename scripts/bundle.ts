/**
 * `npm run build`'s second step (after `tsc`): bundles the compiled CLI, dist/cli/main.js with
 * every module it loads, into one minified file, dist/bitwrk-node.mjs, which
 * bin/bitwrk-node.js runs (issue 14). An idle daemon started from it has ~10 MiB less resident
 * memory: V8 keeps the source text of every loaded module for lazy compilation, and ~870
 * separate modules' sources (~5 MiB of strings) and records are one minified file of 1.6 MB.
 *
 * Kept as they were:
 * - Native packages (`EXTERNAL`) stay outside; the bundle loads them with `require` (a
 *   `createRequire` of its own URL, which the banner makes), as the CommonJS packages in it
 *   load Node's built-ins.
 * - Lazily loaded sub-commands (cli/main.ts's dynamic `import()`s) stay lazy: esbuild runs a
 *   module bundled for a dynamic import only when it is imported, so `start`'s V8 settings
 *   still come before the daemon's modules run.
 * - `import.meta.url` of this package's modules is the URL the module has in dist/ (`META_URL`),
 *   so files found next to a module (the dashboard script, the hash worker, the demo worker)
 *   are found in dist/ as before; the bundle needs dist/ beside it.
 * - Names: `keepNames`, as errors and classes keep their `name` when minified.
 */
import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'

/** The compiled tree (this file runs from dist/scripts/). */
const DIST = fileURLToPath(new URL('../', import.meta.url))
/** The bundle's entry: the compiled CLI. */
const ENTRY = fileURLToPath(new URL('../cli/main.js', import.meta.url))
/** The bundle; bin/bitwrk-node.js runs it when it is not older than dist/cli/main.js. */
export const BUNDLE = fileURLToPath(new URL('../bitwrk-node.mjs', import.meta.url))
/** Packages with native code, loaded from node_modules at run time. */
const EXTERNAL = ['classic-level', 'secp256k1']
/** `require` for CommonJS code in an ES module bundle. */
const BANNER =
  "import{createRequire as __bitwrkRequire}from'node:module';const require=__bitwrkRequire(import.meta.url);"

/**
 * Replaces `import.meta.url` in this package's compiled modules with the module's own URL,
 * computed from the bundle's URL: `new URL('./app.js', import.meta.url)` still names the file
 * next to the module in dist/, wherever the package is installed.
 */
const META_URL: Plugin = {
  name: 'bitwrk-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const rel = relative(DIST, args.path).split('\\').join('/')
      if (rel.startsWith('..') || rel.startsWith('node_modules/')) return undefined
      const source = await readFile(args.path, 'utf8')
      if (!source.includes('import.meta.url')) return undefined
      const own = `new URL(${JSON.stringify(`./${rel}`)}, import.meta.url).href`
      return { contents: source.replaceAll('import.meta.url', own), loader: 'js' }
    })
  }
}

/** Writes dist/bitwrk-node.mjs (and its source map); fails the build on an esbuild error. */
export async function bundle(): Promise<void> {
  await build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    external: EXTERNAL,
    banner: { js: BANNER },
    plugins: [META_URL],
    logLevel: 'warning'
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundle()
