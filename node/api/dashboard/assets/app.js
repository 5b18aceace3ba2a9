/**
 * The dashboard's script: vanilla JavaScript, no dependencies, loaded as an ES module that
 * imports nothing. It reads the JSON endpoints of the local API, listens to `/api/v1/events`
 * (SSE) and reloads a panel when an event names it. Text is always set through `textContent`
 * (peer-supplied strings are data). `tsc -p .` emits it next to the compiled
 * node/api/dashboard/assets/index.js, which serves it as /dashboard/app.js;
 * `tsc -p tsconfig.dashboard.json` (part of `npm run lint`) type-checks it against the DOM.
 */

;(() => {
  /** @type {(id: string) => HTMLElement} */
  var byId = (id) => document.getElementById(id)
  /** The body of the table with this id. */
  var tbodyOf = (/** @type {string} */ id) => /** @type {HTMLTableElement} */ (byId(id)).tBodies[0]
  /** The form field with this id. */
  var fieldOf = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (byId(id))
  var SVGNS = 'http://www.w3.org/2000/svg'
  var state = { info: null, article: null, open: {}, started: 0 }

  function el(tag, props, kids) {
    var e = document.createElement(tag)
    if (props)
      for (var k in props) {
        if (k === 'text') e.textContent = props[k]
        else if (k === 'class') e.className = props[k]
        else e.setAttribute(k, props[k])
      }
    ;(kids || []).forEach((c) => {
      if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c)
    })
    return e
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag)
    for (var k in attrs) e.setAttribute(k, String(attrs[k]))
    return e
  }
  function short(s, n) {
    n = n || 10
    return s && s.length > 2 * n + 1 ? s.slice(0, n) + '…' + s.slice(-n) : s || ''
  }
  function time(ms) {
    return ms ? new Date(ms).toLocaleTimeString() : '—'
  }
  function bytes(n) {
    if (n < 1024) return n + ' B'
    var u = ['KiB', 'MiB', 'GiB', 'TiB'],
      i = -1
    do {
      n /= 1024
      i++
    } while (n >= 1024 && i < u.length - 1)
    return n.toFixed(1) + ' ' + u[i]
  }
  function duration(ms) {
    var s = Math.floor(ms / 1000),
      d = Math.floor(s / 86400),
      h = Math.floor(s / 3600) % 24,
      m = Math.floor(s / 60) % 60
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's'
  }
  function fill(tbody, rows, empty, cols) {
    tbody.replaceChildren()
    if (rows.length === 0)
      tbody.appendChild(el('tr', null, [el('td', { colspan: String(cols), class: 'muted', text: empty })]))
    rows.forEach((r) => {
      tbody.appendChild(r)
    })
  }
  function showError(err) {
    var p = byId('error')
    if (!err) {
      p.hidden = true
      return
    }
    p.textContent = (err.code ? err.code + ': ' : '') + (err.message || String(err))
    p.hidden = false
  }

  function api(path, opts) {
    opts = opts || {}
    /** @type {RequestInit & { headers: Record<string, string> }} */
    var init = { method: opts.method || 'GET', credentials: 'same-origin', headers: {} }
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body)
      init.headers['content-type'] = 'application/json'
    }
    return fetch(path, init).then((r) =>
      r.text().then((t) => {
        var v = null
        try {
          v = t ? JSON.parse(t) : null
        } catch (_e) {
          v = null
        }
        if (!r.ok) {
          /** @type {Error & { code?: string, detail?: string, status?: number }} */
          const e = new Error(v?.message || 'HTTP ' + r.status)
          e.code = v?.code
          e.detail = v?.detail
          e.status = r.status
          throw e
        }
        return v
      })
    )
  }

  // ---- node
  // MARKET-18, SYNC-15: a wrong host clock or a node that left the network's match chain
  function loadTiming() {
    return api('/api/v1/status').then((s) => {
      var t = s.timing
      var out = []
      if (t.clockCorrectionMs !== 0)
        out.push(
          'The host clock is ' +
            Math.abs(t.clockCorrectionMs) +
            ' ms ' +
            (t.clockCorrectionMs < 0 ? 'fast' : 'slow') +
            ": the market runs on the network's time. Fix the clock (NTP)."
        )
      if (t.rejoins > 0)
        out.push(
          "Re-joined the network's match chain " +
            t.rejoins +
            ' time(s), last at ' +
            new Date(t.lastRejoinMs || 0).toLocaleTimeString() +
            '.'
        )
      var w = byId('timing-warning')
      w.textContent = out.join(' ')
      w.hidden = out.length === 0
    })
  }
  function loadIdentity() {
    loadTiming().catch(() => {})
    return api('/api/v1/identity').then((id) => {
      byId('id-address').textContent = id.address
      byId('id-peer').textContent = id.peerId
      byId('id-version').textContent = id.version
      var ul = byId('id-addrs')
      ul.replaceChildren()
      id.addrs.forEach((a) => {
        ul.appendChild(el('li', { text: a }))
      })
      // network.md: reachability, relay server, reservations, the NO_RELAY warning
      var n = id.network
      byId('id-network').textContent = n
        ? n.reachability +
          ', relay server ' +
          (n.relayServer ? 'on' : 'off') +
          ', ' +
          n.relayReservations.length +
          ' relay reservation(s), ' +
          n.connections.direct +
          ' direct / ' +
          n.connections.relayed +
          ' relayed connection(s)' +
          (n.warning === 'NO_RELAY' ? ' (warning: private and no relay: peers cannot reach this node)' : '')
        : '—'
    })
  }
  function loadPeers() {
    return api('/api/v1/peers').then((peers) => {
      fill(
        tbodyOf('peers'),
        peers.map((p) => {
          var rep = p.reputation
          return el('tr', { 'data-peer': p.peerId }, [
            el('td', { class: 'mono', title: p.peerId, text: short(p.peerId, 8) }),
            el('td', { class: 'mono', title: p.address || '', text: p.address ? short(p.address, 8) : '—' }),
            el('td', { text: rep ? rep.score.toFixed(2) + (rep.blocked ? ' (blocked)' : '') : 'no record' }),
            el('td', { text: rep ? evidenceText(rep) : '—' }),
            el('td', {
              class: 'mono',
              title: p.addrs.join(' '),
              text:
                (p.connected ? 'connected ' : '') +
                ((p.connections || []).some((c) => c.kind === 'relayed') ? 'relayed ' : '') +
                (p.addrs[0] || '').replace(/\/p2p\/.*$/, '')
            })
          ])
        }),
        'no peers connected',
        5
      )
    })
  }
  function evidenceText(rep) {
    var parts = []
    for (var k in rep.counters) if (rep.counters[k]) parts.push(k + ' ' + rep.counters[k])
    if (rep.evidenceIds.length) parts.push(rep.evidenceIds.length + ' equivocation proof(s)')
    return parts.join(', ') || 'none'
  }

  // ---- market
  function loadArticles() {
    return api('/api/v1/dashboard').then((info) => {
      state.info = info
      state.started = info.startedMs || 0
      tick()
      if (info.tokenRequired && !info.session) byId('token-form').hidden = false
      var sel = /** @type {HTMLSelectElement} */ (byId('article'))
      var cur = state.article || info.articles[0] || null
      sel.replaceChildren()
      info.articles.forEach((a) => {
        sel.appendChild(el('option', { value: a, text: a }))
      })
      if (cur) {
        sel.value = cur
        state.article = cur
      }
    })
  }
  function depthRows(levels) {
    var max = 1
    levels.forEach((l) => {
      if (l.count > max) max = l.count
    })
    return levels.map((l) => {
      var bar = el('span', { class: 'bar', 'aria-hidden': 'true' })
      bar.style.width = Math.max(4, Math.round((100 * l.count) / max)) + '%'
      return el('tr', { 'data-price': l.price }, [
        el('td', { text: l.price }),
        el('td', { class: 'count', text: String(l.count) }),
        el('td', null, [bar])
      ])
    })
  }
  function loadMarket() {
    if (!state.article) return Promise.resolve()
    return api('/api/v1/market/' + state.article).then((m) => {
      byId('live-digest').textContent = 'live set ' + short(m.liveDigest, 6)
      fill(tbodyOf('book-buys'), depthRows(m.depth.buys), 'no BUY bids', 3)
      fill(tbodyOf('book-sells'), depthRows(m.depth.sells), 'no SELL bids', 3)
      var recent = m.matches.slice(-50).reverse()
      fill(
        tbodyOf('matches'),
        recent.map((x) =>
          el('tr', null, [
            el('td', { text: time(x.matchedMs) }),
            el('td', { text: x.price }),
            el('td', { class: 'mono', text: short(x.buyer, 5) + ' → ' + short(x.seller, 5) }),
            el('td', { text: x.own || '' })
          ])
        ),
        'no matches yet',
        4
      )
      fill(
        tbodyOf('epochs'),
        m.epochs
          .slice(-30)
          .reverse()
          .map((e) =>
            el('tr', null, [
              el('td', { class: 'mono', text: e.key }),
              el('td', { text: String(e.epoch) }),
              el('td', { class: 'mono', title: e.digest, text: short(e.digest, 12) })
            ])
          ),
        'no epoch matched yet',
        3
      )
      drawChart(m.matches)
    })
  }
  function drawChart(matches) {
    var fig = byId('chart')
    var W = 320,
      H = 120,
      P = 52
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' })
    var pts = matches.map((x) => ({ t: x.matchedMs, v: Number(x.units), label: x.price }))
    var title = svg('title', {})
    title.textContent = pts.length
      ? pts.length + ' matches, last price ' + pts[pts.length - 1].label
      : 'no matches yet'
    s.appendChild(title)
    s.setAttribute('aria-label', title.textContent)
    s.appendChild(svg('line', { x1: P, y1: H - P / 2, x2: W - 4, y2: H - P / 2, class: 'chart-axis' }))
    s.appendChild(svg('line', { x1: P, y1: 4, x2: P, y2: H - P / 2, class: 'chart-axis' }))
    if (pts.length) {
      let t0 = pts[0].t,
        t1 = pts[pts.length - 1].t,
        lo = Infinity,
        hi = -Infinity
      pts.forEach((p) => {
        if (p.v < lo) lo = p.v
        if (p.v > hi) hi = p.v
      })
      if (hi === lo) {
        hi = hi + 1
        lo = Math.max(0, lo - 1)
      }
      const x = (t) => (t1 === t0 ? (P + W - 4) / 2 : P + ((W - 4 - P) * (t - t0)) / (t1 - t0))
      const y = (v) => H - P / 2 - ((H - P / 2 - 8) * (v - lo)) / (hi - lo)
      s.appendChild(
        svg('polyline', {
          class: 'chart-line',
          points: pts.map((p) => x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1)).join(' ')
        })
      )
      pts.slice(-40).forEach((p) => {
        s.appendChild(
          svg('circle', { class: 'chart-dot', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5 })
        )
      })
      const top = svg('text', { x: 2, y: 12, class: 'chart-label' })
      top.textContent = pts.reduce((a, p) => (p.v === hi ? p.label : a), '')
      const bottom = svg('text', { x: 2, y: H - P / 2 - 2, class: 'chart-label' })
      bottom.textContent = pts.reduce((a, p) => (p.v === lo ? p.label : a), '')
      const when = svg('text', { x: P, y: H - 2, class: 'chart-label' })
      when.textContent = time(t0) + ' – ' + time(t1)
      s.appendChild(top)
      s.appendChild(bottom)
      s.appendChild(when)
    }
    fig.replaceChildren(s)
  }

  // ---- activities
  var STEPS = { LOCAL: 0, BID: 1, RETRY: 1, ESTABLISHED: 2, WORKING: 4, DONE: 5, FINISHED: 6 }
  var WAITS = {
    BUY: {
      LOCAL: 'storing the work',
      BID: 'a matching SELL bid',
      RETRY: 'a new match',
      ESTABLISHED: 'the seller’s result',
      DONE: 'storing the result'
    },
    SELL: { BID: 'a matching BUY bid', ESTABLISHED: 'the buyer’s work', WORKING: 'the worker' }
  }
  function loadActivities() {
    return api('/api/v1/activities').then((acts) => {
      var rows = acts
        .slice(-100)
        .reverse()
        .map((a) => {
          var step = STEPS[a.phase]
          var prog = el('progress', {
            max: '6',
            value: String(step === undefined ? 0 : step),
            'aria-label': 'Activity ' + a.id + ' phase progress'
          })
          var bar = (label, done, total) =>
            el('div', { class: 'xfer' }, [
              el('progress', {
                max: String(Math.max(1, total)),
                value: String(done),
                'aria-label': 'Activity ' + a.id + ' ' + label + ' transfer'
              }),
              ' ',
              el('span', { class: 'muted', text: label + ' ' + bytes(done) + ' / ' + bytes(total) })
            ])
          var xfer =
            a.workTransfer || a.resultTransfer
              ? [
                  a.workTransfer ? bar('work', a.workTransfer.done, a.workTransfer.total) : bar('work', 0, 0),
                  a.resultTransfer
                    ? bar('result', a.resultTransfer.done, a.resultTransfer.total)
                    : bar('result', 0, 0)
                ]
              : [bar('data', a.bytesTransferred, a.bytesTotal)]
          var wait = a.alive ? WAITS[a.side]?.[a.phase] || '…' : a.error ? 'failed: ' + a.error : '—'
          var tx = a.txId
            ? el('a', { href: '#tx-' + a.txId, class: 'mono', text: short(a.txId, 6) })
            : el('span', { class: 'muted', text: '—' })
          return el('tr', { 'data-activity': String(a.id), 'data-phase': a.phase }, [
            el('td', { text: String(a.id) }),
            el('td', null, [el('span', { class: 'tag side-' + a.side, text: a.side })]),
            el('td', { class: 'phase phase-' + a.phase, text: a.phase }),
            el('td', { text: wait }),
            el('td', null, [prog]),
            el('td', null, xfer),
            el('td', { text: a.price || '—' }),
            el('td', null, [tx])
          ])
        })
      fill(tbodyOf('activity-table'), rows, 'no buys or sells yet', 8)
    })
  }

  // ---- transactions
  function loadTransactions() {
    return api('/api/v1/transactions').then((txs) => {
      var list = byId('tx-list')
      list.replaceChildren()
      if (txs.length === 0) list.appendChild(el('p', { class: 'muted', text: 'no transactions yet' }))
      txs
        .slice(-50)
        .reverse()
        .forEach((tx) => {
          var ok = tx.messages.filter((m) => m.signatureOk === true).length
          var d = el('details', { id: 'tx-' + tx.txId, 'data-tx': tx.txId, 'data-phase': tx.phase })
          if (state.open[tx.txId]) d.open = true
          d.addEventListener('toggle', () => {
            state.open[tx.txId] = d.open
          })
          d.appendChild(
            el('summary', null, [
              el('span', { class: 'mono', text: short(tx.txId, 6) }),
              ' ',
              el('span', { class: 'phase phase-' + tx.phase, text: tx.phase }),
              ' ',
              el('span', {
                text:
                  tx.price +
                  ' · ' +
                  tx.messages.length +
                  ' messages · ' +
                  ok +
                  ' signatures OK' +
                  (tx.outcome ? ' · ' + tx.outcome.result : '')
              })
            ])
          )
          d.appendChild(
            el('p', {
              class: 'muted mono',
              text: 'buyer ' + tx.buyer + ' · seller ' + tx.seller + ' · ' + tx.state
            })
          )
          var ol = el('ol', {
            class: 'timeline',
            'aria-label': 'Signed messages of transaction ' + short(tx.txId, 6)
          })
          tx.messages.forEach((m) => {
            var checked =
              m.signatureOk === true
                ? el('span', { class: 'sig-ok', 'data-sig': 'ok', text: '✓ signature OK' })
                : m.signatureOk === false
                  ? el('span', { class: 'sig-bad', 'data-sig': 'bad', text: '✗ signature INVALID' })
                  : el('span', { class: 'muted', 'data-sig': 'unknown', text: 'not checked' })
            ol.appendChild(
              el('li', { class: 'message' }, [
                el('strong', { text: m.kind || 'message' }),
                ' ',
                el('span', {
                  text:
                    '(' +
                    (m.party || '?') +
                    ', ' +
                    time(m.receivedMs) +
                    (m.from ? ', ' + m.from + ' → ' + m.to : '') +
                    ') '
                }),
                checked,
                el('div', { class: 'mono muted', text: 'signer ' + (m.signer || '?') }),
                el('pre', { text: m.document }),
                el('div', { class: 'mono muted', text: 'signature ' + m.signature })
              ])
            )
          })
          d.appendChild(ol)
          list.appendChild(d)
        })
    })
  }

  // ---- mandates
  function needToken(err) {
    if (err && err.status === 401) {
      byId('token-form').hidden = false
      byId('token').focus()
    }
  }
  function loadMandates() {
    return api('/api/v1/mandates').then((ms) => {
      fill(
        tbodyOf('mandate-table'),
        ms.map((m) => {
          var b = el('button', {
            type: 'button',
            class: 'secondary',
            'data-revoke': String(m.id),
            'aria-label': 'Revoke mandate ' + m.id,
            text: 'Revoke'
          })
          b.addEventListener('click', () => {
            b.disabled = true
            api('/api/v1/mandates/' + m.id, { method: 'DELETE' })
              .then(() => {
                byId('m-result').textContent = 'mandate ' + m.id + ' revoked'
                return loadMandates()
              })
              .catch((err) => {
                b.disabled = false
                needToken(err)
                showError(err)
              })
          })
          return el('tr', { 'data-mandate': String(m.id) }, [
            el('td', { text: String(m.id) }),
            el('td', { text: m.article }),
            el('td', null, [el('span', { class: 'tag side-' + m.side, text: m.side })]),
            el('td', { text: m.price }),
            el('td', { text: m.tradesLeft === null ? '∞' : String(m.tradesLeft) }),
            el('td', { text: m.expiresMs ? new Date(m.expiresMs).toLocaleString() : 'never' }),
            el('td', null, [b])
          ])
        }),
        'no mandates: the node buys and sells nothing',
        7
      )
    })
  }
  function grant(ev) {
    ev.preventDefault()
    var f = ev.target
    var body = { article: f.article.value.trim(), side: f.side.value, price: f.price.value.trim() }
    if (f.trades.value) body.trades = Number(f.trades.value)
    if (f.validMinutes.value) body.validMinutes = Number(f.validMinutes.value)
    var out = byId('m-result')
    out.textContent = 'granting…'
    api('/api/v1/mandates', { method: 'POST', body: body })
      .then((m) => {
        out.textContent = 'mandate ' + m.id + ' granted'
        showError(null)
        return loadMandates()
      })
      .catch((err) => {
        out.textContent = 'refused: ' + (err.detail || err.code || err.message)
        needToken(err)
        showError(err)
      })
  }
  function useToken(ev) {
    ev.preventDefault()
    var t = fieldOf('token').value.trim()
    // the server checks the token and sets it as an HttpOnly cookie (local-api.md API-3):
    // this script never keeps it
    api('/api/v1/session', { method: 'POST', body: { token: t } })
      .then(() => {
        fieldOf('token').value = ''
        byId('token-form').hidden = true
        byId('m-result').textContent = 'token accepted'
      })
      .catch((err) => {
        byId('m-result').textContent = 'token refused'
        showError(err)
      })
  }

  // ---- workers, store, images
  function loadWorkers() {
    return api('/api/v1/workers').then((ws) => {
      fill(
        tbodyOf('worker-table'),
        ws.map((w) =>
          el('tr', { 'data-worker': w.id }, [
            el('td', { text: w.id }),
            el('td', { text: w.article }),
            el('td', { text: w.state }),
            el('td', { text: String(w.jobs) }),
            el('td', { text: w.waitingFor || '—' }),
            el('td', { text: w.lastError || '—' })
          ])
        ),
        'no workers registered',
        6
      )
    })
  }
  function loadStore() {
    return api('/api/v1/store').then((s) => {
      var dl = byId('store-stats')
      dl.replaceChildren()
      var rows = [
        ['Bytes', bytes(s.bytes) + (s.budgetBytes === null ? ' (no budget)' : ' of ' + bytes(s.budgetBytes))],
        ['Chunks', String(s.chunks)],
        ['Pinned chunks', String(s.pinned)],
        ['Dedup ratio', s.dedupRatio.toFixed(2) + ' (' + s.dedupHits + ' duplicate puts)'],
        ['Evictions', String(s.evictions)]
      ]
      rows.forEach((r) => {
        dl.appendChild(el('dt', { text: r[0] }))
        dl.appendChild(el('dd', { 'data-stat': r[0], text: r[1] }))
      })
    })
  }
  var figures = {}
  function loadImages() {
    return api('/api/v1/demo/images').then((imgs) => {
      var box = byId('image-list')
      if (imgs.length === 0) {
        box.replaceChildren(el('p', { class: 'muted', text: 'no demo images bought by this node yet' }))
        return
      }
      var shown = imgs.slice(-4).reverse()
      var keep = {}
      box.replaceChildren()
      shown.forEach((im) => {
        var done = im.tiles.filter((t) => t.state === 'done').length
        var alt = 'Demo image ' + im.id + ': ' + done + ' of ' + im.tiles.length + ' tiles rendered'
        var src = '/api/v1/demo/images/' + im.id + '.png?tiles=' + done
        var f = figures[im.id]
        if (!f) {
          const img = el('img', { src: src, width: String(im.width), height: String(im.height), alt: alt })
          f = {
            img: img,
            src: src,
            stack: el('div', { class: 'tile-stack' }, [img]),
            caption: el('figcaption', { class: 'muted' })
          }
          f.node = el('figure', { 'data-image': im.id }, [f.stack, f.caption])
          figures[im.id] = f
        } else if (f.src !== src) {
          // swap only once the new PNG is decoded, so finished tiles never flash away
          const next = new Image()
          const target = f
          target.src = src
          next.addEventListener('load', () => {
            if (target.src === src) {
              target.img.src = src
              target.img.alt = alt
            }
          })
          next.src = src
        }
        keep[im.id] = true
        var over = svg('svg', { viewBox: '0 0 ' + im.width + ' ' + im.height, 'aria-hidden': 'true' })
        im.tiles.forEach((t) => {
          over.appendChild(
            svg('rect', {
              x: t.x + 0.5,
              y: t.y + 0.5,
              width: Math.max(0, t.w - 1),
              height: Math.max(0, t.h - 1),
              class: 'tile-' + t.state
            })
          )
        })
        if (f.over) f.stack.replaceChild(over, f.over)
        else f.stack.appendChild(over)
        f.over = over
        f.node.dataset.done = String(done)
        f.node.dataset.tiles = String(im.tiles.length)
        f.caption.textContent =
          im.width +
          '×' +
          im.height +
          ', ' +
          (im.frame !== undefined ? 'Blender frame ' + im.frame : im.samples + ' spp') +
          ' · ' +
          done +
          '/' +
          im.tiles.length +
          ' tiles'
        box.appendChild(f.node)
      })
      Object.keys(figures).forEach((id) => {
        if (!keep[id]) delete figures[id]
      })
    })
  }

  // ---- wiring
  var loaders = {
    identity: loadIdentity,
    peers: loadPeers,
    market: loadMarket,
    activities: loadActivities,
    transactions: loadTransactions,
    mandates: loadMandates,
    workers: loadWorkers,
    store: loadStore,
    images: loadImages,
    articles: loadArticles
  }
  var EVENT_PANELS = {
    epoch: ['market'],
    match: ['market', 'activities'],
    tx: ['transactions', 'activities'],
    transactions: ['transactions'],
    book: ['market'],
    activities: ['activities'],
    peers: ['peers'],
    store: ['store'],
    images: ['images'],
    image: ['images'],
    mandates: ['mandates'],
    workers: ['workers'],
    articles: ['articles', 'market'],
    identity: ['identity']
  }
  var timers = {}
  var running = {}
  function schedule(name) {
    if (timers[name]) return
    timers[name] = setTimeout(() => {
      timers[name] = 0
      if (running[name]) {
        schedule(name)
        return
      }
      running[name] = true
      loaders[name]()
        .catch(showError)
        .then(() => {
          running[name] = false
        })
    }, 120)
  }
  function connect() {
    var live = byId('live')
    if (!window.EventSource) {
      live.textContent = 'no live updates in this browser'
      return
    }
    var es = new EventSource('/api/v1/events')
    es.addEventListener('open', () => {
      live.dataset.state = 'live'
      live.textContent = 'live'
    })
    es.addEventListener('error', () => {
      live.dataset.state = 'offline'
      live.textContent = 'reconnecting…'
    })
    es.addEventListener('hello', () => {
      Object.keys(loaders).forEach(schedule)
    })
    Object.keys(EVENT_PANELS).forEach((type) => {
      es.addEventListener(type, () => {
        EVENT_PANELS[type].forEach(schedule)
      })
    })
  }
  function tick() {
    if (state.started) byId('id-uptime').textContent = duration(Date.now() - state.started)
  }

  document.addEventListener('DOMContentLoaded', () => {
    byId('article').addEventListener('change', (e) => {
      state.article = /** @type {HTMLSelectElement} */ (e.target).value
      schedule('market')
    })
    byId('mandate-form').addEventListener('submit', grant)
    byId('token-form').addEventListener('submit', useToken)
    loadArticles()
      .then(() => {
        Object.keys(loaders).forEach(schedule)
      })
      .catch(showError)
    connect()
    setInterval(tick, 1000)
  })
})()
