import assert from 'node:assert/strict'
import {
  DEFAULT_WORKER_ALLOW,
  isAllowedTarget,
  normalisePushUrl,
  parseWorkerAllow,
  parseWorkerAllowList
} from '../../../node/workers/index.js'

describe('node/workers push URLs', () => {
  it('normalises every spelling of a host to one URL, host and port (WRK-8)', () => {
    // input → [normalised URL, host, port, loopback]
    const table: [string, string, string, number, boolean][] = [
      ['http://127.0.0.1:9000/work', 'http://127.0.0.1:9000/work', '127.0.0.1', 9000, true],
      ['http://0x7f.1:6379/', 'http://127.0.0.1:6379/', '127.0.0.1', 6379, true],
      ['http://2130706433/', 'http://127.0.0.1/', '127.0.0.1', 80, true],
      ['http://127.1:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://0177.0.0.1:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://0x7f000001:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://0x7fffffff:9/', 'http://127.255.255.255:9/', '127.255.255.255', 9, true],
      ['http://127.00000000000000000000000000001:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://%31%32%37.0.0.1:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://127.0.0.1.:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://localhost.:9/w', 'http://localhost:9/w', 'localhost', 9, true],
      ['HTTP://LOCALHOST:9/W', 'http://localhost:9/W', 'localhost', 9, true],
      ['http://[::1]:9/', 'http://[::1]:9/', '[::1]', 9, true],
      ['http://[0:0:0:0:0:0:0:1]:9/', 'http://[::1]:9/', '[::1]', 9, true],
      ['http://[::ffff:127.0.0.1]:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://[::FFFF:7F00:2]:9/', 'http://127.0.0.2:9/', '127.0.0.2', 9, true],
      ['http://[::ffff:c0a8:105]:8000/', 'http://192.168.1.5:8000/', '192.168.1.5', 8000, false],
      ['http://[::127.0.0.1]:9/', 'http://[::7f00:1]:9/', '[::7f00:1]', 9, false],
      ['http://127.0.0.1:0080/', 'http://127.0.0.1/', '127.0.0.1', 80, true],
      ['http://127.0.0.1:65535/', 'http://127.0.0.1:65535/', '127.0.0.1', 65535, true],
      ['http://@127.0.0.1:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      ['http://127.0.0.1:9/w?a=1#frag', 'http://127.0.0.1:9/w?a=1', '127.0.0.1', 9, true],
      ['http:127.0.0.1:9/', 'http://127.0.0.1:9/', '127.0.0.1', 9, true],
      // A backslash is a slash in an http: URL: the host stays 127.0.0.1 for the check and the request.
      ['http://127.0.0.1:9\\@evil.example/', 'http://127.0.0.1:9/@evil.example/', '127.0.0.1', 9, true],
      ['http://0/', 'http://0.0.0.0/', '0.0.0.0', 80, false],
      ['http:///work', 'http://work/', 'work', 80, false],
      ['http://[::]:9/', 'http://[::]:9/', '[::]', 9, false],
      ['http://foo.localhost:9/', 'http://foo.localhost:9/', 'foo.localhost', 9, false],
      ['http://127.0.0.1.nip.io:9/', 'http://127.0.0.1.nip.io:9/', '127.0.0.1.nip.io', 9, false],
      ['http://Worker.LAN./x', 'http://worker.lan/x', 'worker.lan', 80, false],
      [
        'http://xn--bcher-kva.example:9/',
        'http://xn--bcher-kva.example:9/',
        'xn--bcher-kva.example',
        9,
        false
      ]
    ]
    for (const [input, url, host, port, loopback] of table)
      assert.deepEqual({ ...normalisePushUrl(input) }, { url, host, port, loopback }, input)
    // Idempotent: the normalised URL normalises to itself.
    for (const [, url] of table) assert.equal(normalisePushUrl(url).url, url)
  })

  it('refuses hostile push URLs with WORKER_INVALID (WRK-8)', () => {
    const hostile: unknown[] = [
      undefined,
      null,
      42,
      '',
      `http://127.0.0.1:9/${'a'.repeat(2048)}`,
      'not a url',
      '/work',
      'https://127.0.0.1:9/',
      'ftp://127.0.0.1/',
      'ws://127.0.0.1:9/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://user:pw@127.0.0.1:9/',
      'http://user@127.0.0.1:9/',
      'http://:pw@127.0.0.1:9/',
      'http://127.0.0.1:9@evil.example/',
      'http://127.0.0.1:0/',
      'http://127.0.0.1:00/',
      'http://127.0.0.1:65536/',
      'http://127.0.0.1:99999999999999999999/',
      'http://127.0.0.1:-1/',
      'http://127.0.0.1:9x/',
      'http://256.0.0.1/',
      'http://1.2.3.4.5/',
      'http://0x100000000/',
      'http://127.0.0.1../',
      'http://localhost../',
      'http://a..b/',
      'http://[::1%25lo]:9/',
      'http://[::1:9/',
      'http://*/',
      'http://-/',
      'http://',
      ' http://127.0.0.1:9/',
      'http://127.0.0.1:9/ ',
      'http://127.0.0.1\t:90\n90/',
      'http://127.0.0.1:9/\r\nX-Injected: 1',
      'http://127.0.0.1\u0000:9/',
      'http://①②⑦.0.0.1:9/',
      'http://１２７.０.０.１:9/',
      'http://ⓛocalhost:9/',
      'http://bücher.example/',
      'http://127.0.0.1:9/wörk',
      `http://${'a'.repeat(64)}.example/`,
      `http://${'a.'.repeat(127)}a/`
    ]
    for (const input of hostile)
      assert.throws(
        () => normalisePushUrl(input),
        { code: 'WORKER_INVALID', details: { field: 'pushurl' } },
        JSON.stringify(input)
      )
  })

  it('parses --worker-allow entries and matches (host, port) only (WRK-9)', () => {
    assert.deepEqual(
      parseWorkerAllowList('127.0.0.1:9000, 0x7f.1:9000-9100,localhost:*,[0::1]:7,worker.lan.:80,,'),
      [
        { host: '127.0.0.1', minPort: 9000, maxPort: 9000 },
        { host: '127.0.0.1', minPort: 9000, maxPort: 9100 },
        { host: 'localhost', minPort: 1, maxPort: 65535 },
        { host: '[::1]', minPort: 7, maxPort: 7 },
        { host: 'worker.lan', minPort: 80, maxPort: 80 }
      ]
    )
    const rules = parseWorkerAllowList('127.0.0.1:9000-9100,localhost:7000,[::1]:8000,192.168.1.5:8000')
    const allowed = (url: string): boolean => isAllowedTarget(normalisePushUrl(url), rules)
    const yes = [
      'http://127.0.0.1:9000/',
      'http://2130706433:9050/w',
      'http://127.0.0.1:9100/',
      'http://127.0.0.2:7000/',
      'http://localhost:7000/',
      'http://[::1]:7000/',
      'http://[::1]:8000/',
      'http://192.168.1.5:8000/',
      'http://[::ffff:192.168.1.5]:8000/'
    ]
    const no = [
      'http://127.0.0.1:6379/',
      'http://0x7f.1:6379/',
      'http://127.0.0.1:8999/',
      'http://127.0.0.1:9101/',
      'http://127.0.0.1/',
      'http://localhost:9000/',
      'http://127.0.0.1:8000/',
      'http://192.168.1.5:8001/',
      'http://192.168.1.6:8000/',
      'http://0.0.0.0:9000/',
      'http://[::]:8000/'
    ]
    for (const url of yes) assert.equal(allowed(url), true, url)
    for (const url of no) assert.equal(allowed(url), false, url)
    // The default: any port of a loopback host, nothing else (the original's behaviour).
    const byDefault = (url: string): boolean => isAllowedTarget(normalisePushUrl(url), DEFAULT_WORKER_ALLOW)
    for (const url of ['http://0x7f.1:6379/', 'http://localhost:1/', 'http://[::1]:65535/'])
      assert.equal(byDefault(url), true, url)
    for (const url of ['http://0.0.0.0:9/', 'http://192.168.1.5:8000/', 'http://foo.localhost:9/'])
      assert.equal(byDefault(url), false, url)
  })

  it('refuses malformed --worker-allow entries with WORKER_ALLOW_INVALID', () => {
    const bad = [
      '',
      '127.0.0.1',
      ':9000',
      '127.0.0.1:',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '127.0.0.1:09000',
      '127.0.0.1:9100-9000',
      '127.0.0.1:9000-',
      '127.0.0.1:-9000',
      '127.0.0.1:9000-9100-9200',
      '127.0.0.1:**',
      '*:*',
      '::1:9000',
      'http://127.0.0.1:9000',
      '127.0.0.1/x:9000',
      'user@127.0.0.1:9000',
      '127.0.0.1?x:9000',
      'ⓛocalhost:9000',
      '127.0.0.1 :9000',
      `${'a'.repeat(300)}:9000`
    ]
    for (const entry of bad)
      assert.throws(() => parseWorkerAllow(entry), { code: 'WORKER_ALLOW_INVALID' }, JSON.stringify(entry))
    assert.throws(() => parseWorkerAllowList('localhost:*,nope'), { code: 'WORKER_ALLOW_INVALID' })
  })
})
