import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multipartBoundary, multipartField } from '../../../node/api/multipart.js'
import { multipart } from './helpers.js'

/** Splits `bytes` at the given cut points. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let at = 0
  for (const p of points) {
    out.push(bytes.subarray(at, p))
    at = p
  }
  out.push(bytes.subarray(at))
  return out
}

async function field(chunks: Uint8Array[], boundary: string, name = 'data'): Promise<Buffer> {
  const parts: Uint8Array[] = []
  async function* src(): AsyncGenerator<Uint8Array> {
    yield* chunks
  }
  for await (const c of multipartField(src(), boundary, name)) parts.push(Uint8Array.from(c))
  return Buffer.concat(parts)
}

const B = 'XyZ-boundary-123'

describe('node/api multipart', () => {
  it('parses the boundary of multipart/form-data and ignores other types', () => {
    assert.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc')
    assert.equal(multipartBoundary('Multipart/Form-Data; charset=x; boundary="a b"'), 'a b')
    assert.equal(multipartBoundary('application/octet-stream'), undefined)
    assert.equal(multipartBoundary(undefined), undefined)
    for (const bad of [
      'multipart/form-data',
      'multipart/form-data; boundary=',
      `multipart/form-data; boundary=${'a'.repeat(71)}`,
      'multipart/form-data; boundary=a\u00e9'
    ])
      assert.throws(() => multipartBoundary(bad), { code: 'API_BAD_REQUEST' }, bad)
  })

  it('extracts field data split at every byte position', async () => {
    const data = Buffer.from('line1\r\n--XyZ-boundary-12 almost a delimiter\r\n-')
    const mp = multipart([
      ['a', 'x'],
      ['data', data],
      ['b', 'y']
    ])
    for (let i = 0; i <= mp.body.length; i++)
      assert.deepEqual(await field(chunked(mp.body, [i]), B), data, `cut ${i}`)
  })

  it('round-trips any content at any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        async (data, cuts, extra) => {
          const mp = multipart(
            extra
              ? [
                  ['x', 'pre'],
                  ['data', data],
                  ['y', 'post']
                ]
              : [['data', data]]
          )
          assert.deepEqual(await field(chunked(mp.body, cuts), B), Buffer.from(data))
        }
      ),
      { numRuns: 300 }
    )
  })

  it('refuses malformed bodies with API_BAD_REQUEST (hostile table)', async () => {
    const good = Buffer.from(multipart([['data', 'abc']]).body)
    const text = good.toString('latin1')
    const cases: [string, string][] = [
      ['empty', ''],
      ['no closing delimiter', text.slice(0, text.lastIndexOf(`--${B}--`))],
      ['truncated in headers', text.slice(0, 40)],
      ['no field data', text.replace('name="data"', 'name="other"')],
      [
        'field twice',
        text.replace(`--${B}--`, `--${B}\r\nContent-Disposition: form-data; name="data"\r\n\r\nx\r\n--${B}--`)
      ],
      ['not form-data', text.replace('form-data;', 'attachment;')],
      ['no disposition', `--${B}\r\nContent-Type: x\r\n\r\nabc\r\n--${B}--\r\n`],
      ['no name', `--${B}\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--${B}--\r\n`],
      [
        'header without colon',
        `--${B}\r\nContent-Disposition form-data; name="data"\r\n\r\nabc\r\n--${B}--\r\n`
      ],
      ['bad delimiter line', `--${B}XX\r\n`],
      ['huge headers', `--${B}\r\nX: ${'a'.repeat(9000)}\r\n\r\n`],
      ['huge preamble', `${'p'.repeat(2000)}\r\n--${B}--`],
      [
        'too many parts',
        `${`--${B}\r\nContent-Disposition: form-data; name="p"\r\n\r\n\r\n`.repeat(65)}--${B}--`
      ]
    ]
    for (const [label, body] of cases)
      await assert.rejects(field([Buffer.from(body, 'latin1')], B), { code: 'API_BAD_REQUEST' }, label)
  })

  it('never fails other than with API_BAD_REQUEST on random input (property)', async () => {
    const piece = fc.constantFrom(
      `--${B}`,
      '\r\n',
      '--',
      'Content-Disposition: form-data; name="data"',
      '\r\n\r\n',
      'x',
      ':',
      ';'
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(piece, fc.string({ maxLength: 5 })), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (pieces, cuts) => {
          const body = Buffer.from(pieces.join(''), 'latin1')
          try {
            await field(chunked(body, cuts), B)
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'API_BAD_REQUEST')
          }
        }
      ),
      { numRuns: 500 }
    )
  })
})
