import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUCKET_TABLE, duplicateBuckets } from '../node/store/buckets.js'

/** Repository root: this file runs from dist/test/. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of entries) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Strips comments so that prose about `Date.now` does not count as a use. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(src: string): string[] {
  const code = stripComments(src)
  const specs: string[] = []
  const re =
    /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g
  for (const m of code.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3]) as string)
  return specs
}

const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'child_process',
  'dgram',
  'dns',
  'tls',
  'worker_threads',
  'cluster',
  'os',
  'process',
  'perf_hooks',
  'timers',
  'timers/promises',
  'readline',
  'crypto',
  'stream'
]

function isForbiddenForProtocol(spec: string): string | undefined {
  const bare = spec.replace(/^node:/, '')
  if (IO_MODULES.includes(bare)) return `I/O, clock or randomness module '${spec}'`
  if (spec === 'libp2p' || spec.startsWith('@libp2p/') || spec.startsWith('@chainsafe/'))
    return `libp2p '${spec}'`
  if (spec === 'level' || spec === 'classic-level' || spec.startsWith('abstract-level'))
    return `storage '${spec}'`
  if (spec.startsWith('.') && /(^|\/)(cafs|node|cli|scripts)\//.test(spec)) return `upper layer '${spec}'`
  return undefined
}

const PROTOCOL_GLOBALS: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\s*\(\s*\)/, 'new Date()'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/\bsetTimeout\s*\(/, 'setTimeout'],
  [/\bsetInterval\s*\(/, 'setInterval'],
  [/\bprocess\./, 'process'],
  [/\bcrypto\.getRandomValues\s*\(/, 'crypto.getRandomValues'],
  [/\bfetch\s*\(/, 'fetch']
]

/** Violations of DESIGN.md §1 for the files of one layer. */
function layerViolations(root: string): string[] {
  const problems: string[] = []
  for (const file of sourceFiles(join(root, 'protocol'))) {
    const rel = relative(root, file)
    const src = readFileSync(file, 'utf8')
    for (const spec of importsOf(src)) {
      const why = isForbiddenForProtocol(spec)
      if (why) problems.push(`${rel}: protocol/ imports ${why}`)
    }
    const code = stripComments(src)
    for (const [re, what] of PROTOCOL_GLOBALS)
      if (re.test(code)) problems.push(`${rel}: protocol/ uses ${what}`)
  }
  for (const file of sourceFiles(join(root, 'cafs'))) {
    const rel = relative(root, file)
    const inAdapter = rel.split(sep).slice(0, 3).join('/') === 'cafs/adapters/libp2p'
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const libp2p = spec === 'libp2p' || spec.startsWith('@libp2p/') || spec.startsWith('@chainsafe/')
      if (libp2p && !inAdapter)
        problems.push(`${rel}: cafs/ imports libp2p '${spec}' outside cafs/adapters/libp2p/`)
      if (spec.startsWith('.') && /(^|\/)(node|cli|scripts)\//.test(spec))
        problems.push(`${rel}: cafs/ imports upper layer '${spec}'`)
    }
  }
  for (const file of sourceFiles(join(root, 'node'))) {
    const rel = relative(root, file)
    const inMarket = rel.split(sep).slice(0, 2).join('/') === 'node/market'
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.') && /(^|\/)(cli|scripts|test)\//.test(spec))
        problems.push(`${rel}: node/ imports '${spec}'`)
      if (inMarket && isAboveMarket(spec)) problems.push(`${rel}: node/market/ imports '${spec}' above it`)
    }
  }
  return problems
}

/**
 * True when a file of node/market/ (bid → match → agree → trade) would import what is built on
 * it: the node's assembly (node/node.ts), the daemon or the local API (issue 13).
 */
function isAboveMarket(spec: string): boolean {
  return spec.startsWith('.') && (/(^|\/)(daemon|api)\//.test(spec) || /^\.\.\/node\.js$/.test(spec))
}

/**
 * Imports of test/support/ (issue 13: the one assertion of error codes, the one raw HTTP sender)
 * that would tie it to a layer above protocol/ or to one test folder: the tests of every layer,
 * protocol/ included, use it.
 */
function supportViolations(root: string): string[] {
  const problems: string[] = []
  for (const file of sourceFiles(join(root, 'test', 'support'))) {
    const rel = relative(root, file).split(sep).join('/')
    for (const spec of importsOf(readFileSync(file, 'utf8')))
      if (isForbiddenForSupport(spec)) problems.push(`${rel}: test/support/ imports '${spec}'`)
  }
  return problems
}

/** True when a module specifier of a test/support/ file leaves protocol/, test/support/ and Node. */
function isForbiddenForSupport(spec: string): boolean {
  if (!spec.startsWith('.')) return !spec.startsWith('node:')
  return !(/^\.\.\/\.\.\/protocol\//.test(spec) || /^\.\/[^/]+$/.test(spec))
}

/** The one table of bucket bytes of the node's database (issue 12.1). */
const BUCKET_TABLE_FILE = 'node/store/buckets.ts'

/** True when a file of node/ talks to the node's database (imports node/store's controller). */
function usesNodeDatabase(rel: string, src: string): boolean {
  return importsOf(src).some((spec) =>
    rel.startsWith('node/store/') ? spec === './db.js' : /\/store\/(db|index)\.js$/.test(spec)
  )
}

/**
 * Bucket bytes declared outside {@link BUCKET_TABLE_FILE} by a file that writes the node's
 * database: a name that says bucket set to a number literal (`MANDATE_BUCKET = 0x50`), or a key
 * prefix built from one (`Uint8Array.of(0x50)`).
 */
function strayBucketBytes(root: string): string[] {
  const problems: string[] = []
  for (const file of sourceFiles(join(root, 'node'))) {
    const rel = relative(root, file).split(sep).join('/')
    const src = readFileSync(file, 'utf8')
    if (rel === BUCKET_TABLE_FILE || !usesNodeDatabase(rel, src)) continue
    const code = stripComments(src)
    for (const m of code.matchAll(/\b(\w*bucket\w*)\s*[:=]\s*(0x[0-9a-f]+|\d+)\b/gi))
      problems.push(`${rel}: ${m[1]} = ${m[2]} outside ${BUCKET_TABLE_FILE}`)
    for (const m of code.matchAll(/Uint8Array\.of\(\s*(0x[0-9a-f]+|\d+)\s*[,)]/gi))
      problems.push(`${rel}: key prefix ${m[1]} outside ${BUCKET_TABLE_FILE}`)
  }
  return problems
}

describe('architecture', () => {
  it('keeps protocol/ pure, libp2p inside the cafs adapter and node/market/ below the daemon (DESIGN.md §1)', () => {
    assert.deepEqual(layerViolations(ROOT), [])
  })

  it('finds the imports it is meant to forbid', () => {
    assert.deepEqual(
      importsOf(
        "import { readFile } from 'node:fs'\nimport type { X } from '../cafs/x.js'\nexport * from \"level\"\nimport 'net'\nconst m = await import('@libp2p/tcp')\n// import 'os'"
      ),
      ['node:fs', '../cafs/x.js', 'level', 'net', '@libp2p/tcp']
    )
    assert.match(isForbiddenForProtocol('node:crypto') ?? '', /randomness/)
    assert.match(isForbiddenForProtocol('@libp2p/gossipsub') ?? '', /libp2p/)
    assert.match(isForbiddenForProtocol('classic-level') ?? '', /storage/)
    assert.equal(isForbiddenForProtocol('@noble/curves/secp256k1.js'), undefined)
    assert.equal(isAboveMarket('../daemon/facade.js'), true)
    assert.equal(isAboveMarket('../api/index.js'), true)
    assert.equal(isAboveMarket('../node.js'), true)
    assert.equal(isAboveMarket('../trade/service.js'), false)
    assert.equal(isAboveMarket('./market.js'), false)
  })

  it('keeps test/support/ usable by the tests of every layer (issue 13)', () => {
    assert.deepEqual(supportViolations(ROOT), [])
    assert.equal(isForbiddenForSupport('../../protocol/errors.js'), false)
    assert.equal(isForbiddenForSupport('./errors.js'), false)
    assert.equal(isForbiddenForSupport('node:http'), false)
    assert.equal(isForbiddenForSupport('../../node/testing.js'), true)
    assert.equal(isForbiddenForSupport('../node/api/helpers.js'), true)
    assert.equal(isForbiddenForSupport('libp2p'), true)
  })

  it('gives every bucket of the node database its own byte, all in one table (issue 12.1)', () => {
    assert.deepEqual(duplicateBuckets(BUCKET_TABLE), [])
    assert.deepEqual(strayBucketBytes(ROOT), [])
  })

  it('finds the duplicate bucket bytes it is meant to forbid', () => {
    const clash = {
      ...BUCKET_TABLE,
      mandate: { byte: 0x50, owner: 'node/mandates', holds: 'mandates' },
      mandateSeq: { byte: 0x51, owner: 'node/mandates', holds: 'counter' }
    }
    assert.deepEqual(duplicateBuckets(clash), ['0x50: file, mandate', '0x51: fileAdded, mandateSeq'])
  })
})
