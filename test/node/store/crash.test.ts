import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Bucket, openDataDir, StoreCode } from '../../../node/store/index.js'
import { transactionId } from '../../../protocol/transaction/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { T0, tempDir, termsN } from './helpers.js'

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url))
/** Lines a child must report before it is killed (several whole transactions, then mid-way). */
const LINES_BEFORE_KILL = 40
const CHILD_DEADLINE_MS = 20_000
const PHASE_BY_COUNT = ['ESTABLISHING', 'BUYER_ESTABLISHED', 'TRANSMITTING', 'WORKING']

/**
 * Runs the child until it reported `lines` durable steps, then SIGKILLs it without warning.
 * Resolves with the reported lines.
 */
function runAndKill(dir: string, first: number, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const seen: string[] = []
    let buf = ''
    let stderr = ''
    let killed = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(`child reported ${seen.length} lines within ${CHILD_DEADLINE_MS} ms; stderr: ${stderr}`)
      )
    }, CHILD_DEADLINE_MS)
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const parts = buf.split('\n')
      buf = parts.pop() ?? ''
      seen.push(...parts)
      if (!killed && seen.length >= lines) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (signal === 'SIGKILL' && killed) resolve(seen)
      else reject(new Error(`child exited early (${code ?? signal}): ${stderr}`))
    })
  })
}

describe('node/store crash safety', () => {
  let dir: string
  before(async () => {
    dir = await tempDir()
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps every reported write, whole message lists and used marks after SIGKILL mid-write, twice', async () => {
    const reported = new Map<number, number>() // tx index → messages reported durable
    for (const first of [0, 1000]) {
      for (const line of await runAndKill(dir, first, LINES_BEFORE_KILL)) {
        const [i, what, n] = line.split(' ')
        reported.set(Number(i), what === 'used' ? 0 : Number(n))
      }
      const data = await openDataDir(dir, { nowMs: T0 + 30_000 })
      try {
        const { resumed, retired, corrupt } = data.report.recovery
        assert.deepEqual(corrupt, [])
        assert.deepEqual(retired, [])
        // Every open transaction replayed through the phase machine; its list is whole.
        for (const tx of resumed) assert.equal(tx.phase, PHASE_BY_COUNT[tx.evidence.length])
        const byId = new Map(resumed.map((t) => [t.id, t]))
        for (const [i, count] of reported) {
          const terms = termsN(i)
          const txid = transactionId(terms.buyBidId, terms.sellBidId)
          const tx = byId.get(txid)
          assert.ok(tx, `reported transaction ${i} is missing`)
          assert.ok(tx.evidence.length >= count, `transaction ${i} lost messages`)
          assert.equal((await data.bids.usedBy(terms.buyBidId))?.txId, txid)
          await rejectsWithCode(
            () => data.bids.markUsed(terms.buyBidId, 'e'.repeat(64)),
            StoreCode.BID_ALREADY_USED
          )
        }
        // Every record in every bucket decodes.
        assert.deepEqual((await data.bids.list()).corrupt, [])
        assert.deepEqual((await data.bids.listLive(T0)).corrupt, [])
        let records = 0
        for await (const [k] of data.kv.entries({})) {
          records++
          assert.ok(Object.values(Bucket).includes(k[0] as never), 'record outside every bucket')
        }
        assert.ok(records > reported.size)
      } finally {
        await data.close()
      }
    }
  })
})
