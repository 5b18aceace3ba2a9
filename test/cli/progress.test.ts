import assert from 'node:assert/strict'
import { BuyProgress, describeActivity } from '../../cli/buy/progress.js'
import { describeFetch, FetchProgress } from '../../cli/files/progress.js'
import type { ActivityView, FetchProgressView } from '../../node/api/index.js'

const SELLER = '1GHCn29Sgn8kEaNTwMxxBeM8NBJVNLR4dA'
/** The escape character that starts the terminal's "erase to end of line" (CSI K). */
const ESC = String.fromCharCode(0x1b)

function activity(patch: Partial<ActivityView>): ActivityView {
  return {
    id: 1,
    side: 'BUY',
    article: 'net.bitwrk/rays/0',
    alive: true,
    phase: 'BID',
    price: 'mBTC 2',
    bidId: null,
    txId: null,
    workerId: null,
    bytesTotal: 2000,
    bytesTransferred: 0,
    error: null,
    workTransfer: null,
    resultTransfer: null,
    counterparty: null,
    ref: 'cli-1',
    ...patch
  }
}

/** The states of one buy, in order, as the activity view shows them. */
const STATES: ActivityView[] = [
  activity({ phase: 'LOCAL' }),
  activity({ phase: 'BID' }),
  activity({ phase: 'ESTABLISHED', counterparty: SELLER }),
  activity({ phase: 'ESTABLISHED', counterparty: SELLER, workTransfer: { done: 1000, total: 2000 } }),
  activity({ phase: 'ESTABLISHED', counterparty: SELLER, workTransfer: { done: 1500, total: 2000 } }),
  activity({ phase: 'ESTABLISHED', counterparty: SELLER, workTransfer: { done: 2000, total: 2000 } }),
  activity({
    phase: 'ESTABLISHED',
    counterparty: SELLER,
    workTransfer: { done: 2000, total: 2000 },
    resultTransfer: { done: 799, total: 799 }
  })
]

function collect(tty: boolean): { text: () => string; out: { write: (t: string) => void; isTTY: boolean } } {
  let text = ''
  return {
    text: () => text,
    out: {
      isTTY: tty,
      write: (t: string) => {
        text += t
      }
    }
  }
}

describe('cli/buy progress', () => {
  it('names the phase, the matched seller and both transfers', () => {
    assert.equal(
      describeActivity(STATES[1] as ActivityView, { bars: false }),
      'bid placed, waiting for a seller'
    )
    assert.equal(
      describeActivity(STATES[6] as ActivityView, { bars: false }),
      `matched, seller ${SELLER}, work 2.0 kB/2.0 kB, result 799 B/799 B`
    )
    assert.equal(
      describeActivity(STATES[3] as ActivityView, { bars: true }),
      `matched, seller ${SELLER}, work [##########----------] 50% 1.0 kB/2.0 kB`
    )
    // a seller that held the work already: nothing had to travel (API-18)
    assert.match(
      describeActivity(activity({ phase: 'ESTABLISHED', workTransfer: { done: 0, total: 0 } }), {
        bars: true
      }),
      /work already there/
    )
  })

  it('prints one plain line per new phase, seller or finished transfer when not on a terminal', () => {
    const c = collect(false)
    const p = new BuyProgress(c.out, 'buy A', false)
    for (const s of STATES) p.show(s)
    p.show(STATES[6] as ActivityView)
    p.end()
    const lines = c.text().trimEnd().split('\n')
    assert.deepEqual(lines, [
      'buy A: accepted, placing a bid',
      'buy A: bid placed, waiting for a seller',
      `buy A: matched, seller ${SELLER}`,
      `buy A: matched, seller ${SELLER}, work 1.0 kB/2.0 kB`,
      `buy A: matched, seller ${SELLER}, work 2.0 kB/2.0 kB`,
      `buy A: matched, seller ${SELLER}, work 2.0 kB/2.0 kB, result 799 B/799 B`
    ])
    assert.ok(!c.text().includes('\r') && !c.text().includes(ESC))
  })

  it('redraws one line with bars on a terminal and ends it with a newline', () => {
    const c = collect(true)
    const p = new BuyProgress(c.out, 'buy A', true)
    for (const s of STATES) p.show(s)
    p.end()
    const text = c.text()
    assert.equal(text.split('\r').length - 1, STATES.length)
    assert.equal(text.split('\n').length - 1, 1)
    assert.ok(text.endsWith('\n'))
    assert.match(text, /work \[##########----------\] 50%/)
    assert.ok(text.endsWith(`${ESC}[K\n`))
    assert.match(text.slice(0, -4), /result \[#{20}\] 100% 799 B\/799 B \(\d+ s\)$/)
  })

  it("keeps the terminal line within the terminal's width", () => {
    let text = ''
    const p = new BuyProgress({ isTTY: true, columns: 60, write: (t: string) => (text += t) }, 'buy A', true)
    p.show(STATES[6] as ActivityView)
    const line = text.slice(1, text.indexOf(ESC))
    assert.equal(line.length, 59)
    assert.ok(line.endsWith('…'))
  })
})

describe('cli get progress (API-24)', () => {
  const view = (patch: Partial<FetchProgressView>): FetchProgressView => ({
    key: 'ab'.repeat(32),
    stage: 'fetching',
    providers: 3,
    size: 4_000_000,
    bytesWanted: 4_000_000,
    bytesReceived: 1_000_000,
    startedMs: 0,
    ...patch
  })

  it('says the stage, the providers, the bytes with a bar on a terminal, and the rate', () => {
    assert.equal(
      describeFetch(view({ stage: 'finding', providers: 0 }), undefined, { bars: true }),
      'looking for providers, 0 providers'
    )
    assert.equal(
      describeFetch(view({}), 2_500_000, { bars: true }),
      'fetching, 3 providers, [#####---------------] 25% 1.0 MB/4.0 MB, 2.5 MB/s'
    )
    assert.equal(
      describeFetch(view({ providers: 1 }), undefined, { bars: false }),
      'fetching, 1 provider, 25% 1.0 MB/4.0 MB'
    )
    assert.equal(
      describeFetch(view({ bytesWanted: 0, bytesReceived: 0 }), undefined, { bars: false }),
      'fetching, 3 providers, every chunk already held'
    )
  })

  it('computes the rate between samples; plain output prints a line per stage and per tenth only', () => {
    const lines: string[] = []
    let now = 0
    const p = new FetchProgress({ write: (s: string) => lines.push(s) }, 'get', false, () => now)
    p.show(view({ stage: 'finding', providers: 0, bytesReceived: 0 }))
    p.show(view({ stage: 'finding', providers: 0, bytesReceived: 0 }))
    now = 1000
    p.show(view({ bytesReceived: 0 }))
    now = 2000
    p.show(view({ bytesReceived: 100_000 }))
    now = 3000
    p.show(view({ bytesReceived: 2_000_000 }))
    assert.deepEqual(lines, [
      'get: looking for providers, 0 providers\n',
      'get: fetching, 3 providers, 0% 0 B/4.0 MB, 0 B/s\n',
      'get: fetching, 3 providers, 50% 2.0 MB/4.0 MB, 591.0 kB/s\n'
    ])
    const tty: string[] = []
    const t = new FetchProgress({ write: (s: string) => tty.push(s), isTTY: true }, 'get', true, () => now)
    t.show(view({}))
    t.end()
    assert.deepEqual(tty, [
      `\rget: fetching, 3 providers, [#####---------------] 25% 1.0 MB/4.0 MB${ESC}[K`,
      '\n'
    ])
  })
})
