/** The dashboard page (served at `/`): a static shell that `app.js` fills from the JSON API. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bitwrk-node dashboard</title>
<link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/app.css?v=@VERSION@">
<script type="module" src="/dashboard/app.js?v=@VERSION@"></script>
</head>
<body>
<header class="top">
  <h1>bitwrk-node</h1>
  <p class="live" id="live" role="status" aria-live="polite" data-state="connecting">connecting…</p>
</header>
<nav aria-label="Sections">
  <a href="#node">Node</a> <a href="#market">Market</a> <a href="#images">Images</a>
  <a href="#activities">Activities</a> <a href="#transactions">Transactions</a> <a href="#mandates">Mandates</a>
  <a href="#workers">Workers</a> <a href="#store">Store</a>
</nav>
<p id="error" class="error" role="alert" hidden></p>
<main>
<section id="node" aria-labelledby="node-h">
  <h2 id="node-h">Node</h2>
  <dl class="facts" id="identity" aria-label="Node identity">
    <dt>Address</dt><dd id="id-address" class="mono">…</dd>
    <dt>Peer id</dt><dd id="id-peer" class="mono">…</dd>
    <dt>Version</dt><dd id="id-version">…</dd>
    <dt>Uptime</dt><dd id="id-uptime">…</dd>
    <dt>Listening on</dt><dd><ul id="id-addrs" class="mono plain"></ul></dd>
    <dt>Network</dt><dd id="id-network">…</dd>
  </dl>
  <p id="timing-warning" class="error" role="status" hidden></p>
  <h3 id="peers-h">Connected peers</h3>
  <div class="scroll"><table aria-labelledby="peers-h" id="peers">
    <thead><tr><th scope="col">Peer</th><th scope="col">Address</th><th scope="col">Score</th><th scope="col">Evidence</th><th scope="col">Connection</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>

<section id="market" aria-labelledby="market-h">
  <h2 id="market-h">Market</h2>
  <p><label for="article">Article</label> <select id="article"></select>
  <span class="muted" id="live-digest"></span></p>
  <div class="grid2">
    <div>
      <h3 id="book-h">Order book</h3>
      <div class="book" id="book" aria-labelledby="book-h">
        <table id="book-buys" aria-label="BUY bids by price">
          <caption>BUY</caption>
          <thead><tr><th scope="col">Price</th><th scope="col">Bids</th><th scope="col"><span class="sr">Depth</span></th></tr></thead>
          <tbody></tbody>
        </table>
        <table id="book-sells" aria-label="SELL bids by price">
          <caption>SELL</caption>
          <thead><tr><th scope="col">Price</th><th scope="col">Bids</th><th scope="col"><span class="sr">Depth</span></th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </div>
    <div>
      <h3 id="chart-h">Match prices</h3>
      <figure id="chart" aria-labelledby="chart-h"></figure>
      <h3 id="matches-h">Recent matches</h3>
      <div class="scroll short"><table id="matches" aria-labelledby="matches-h">
        <thead><tr><th scope="col">Time</th><th scope="col">Price</th><th scope="col">Buyer → Seller</th><th scope="col">Ours</th></tr></thead>
        <tbody></tbody>
      </table></div>
    </div>
  </div>
  <h3 id="epochs-h">Epochs and match digests</h3>
  <div class="scroll short"><table id="epochs" aria-labelledby="epochs-h">
    <thead><tr><th scope="col">Book</th><th scope="col">Epoch</th><th scope="col">Digest (MATCH-13)</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>

<section id="images" aria-labelledby="images-h">
  <h2 id="images-h">Demo images</h2>
  <p class="muted">Tiles of the ray-tracing demo (net.bitwrk/rays/0) and of Blender frames (net.bitwrk/blender/0/3.4/…) bought by this node, drawn as they arrive.</p>
  <div id="image-list" class="images"></div>
</section>

<section id="activities" aria-labelledby="activities-h">
  <h2 id="activities-h">Activities</h2>
  <div class="scroll"><table id="activity-table" aria-labelledby="activities-h">
    <thead><tr><th scope="col">#</th><th scope="col">Side</th><th scope="col">Phase</th><th scope="col">Waiting for</th><th scope="col">Progress</th><th scope="col">Transfer</th><th scope="col">Price</th><th scope="col">Transaction</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>

<section id="transactions" aria-labelledby="transactions-h">
  <h2 id="transactions-h">Transactions</h2>
  <p class="muted">Each signed message as received; the node re-verifies every signature against the signing party's address.</p>
  <div id="tx-list"></div>
</section>

<section id="mandates" aria-labelledby="mandates-h">
  <h2 id="mandates-h">Mandates</h2>
  <form id="mandate-form" class="form" aria-labelledby="mandate-form-h">
    <h3 id="mandate-form-h">Grant a mandate</h3>
    <p><label for="m-article">Article</label> <input id="m-article" name="article" required autocomplete="off" value="net.bitwrk/rays/0"></p>
    <p><label for="m-side">Side</label> <select id="m-side" name="side"><option>BUY</option><option>SELL</option></select></p>
    <p><label for="m-price">Price limit</label> <input id="m-price" name="price" required placeholder="mBTC 2" autocomplete="off"></p>
    <p><label for="m-trades">Trades</label> <input id="m-trades" name="trades" type="number" min="1" step="1" value="10"></p>
    <p><label for="m-minutes">Valid minutes</label> <input id="m-minutes" name="validMinutes" type="number" min="1" step="1" value="60"></p>
    <p><button type="submit" id="m-grant">Grant</button> <span id="m-result" role="status" aria-live="polite"></span></p>
  </form>
  <form id="token-form" class="form" hidden aria-labelledby="token-h">
    <h3 id="token-h">API token required</h3>
    <p>This node requires its token (file <code>.cookie</code> in the data directory) for changes.</p>
    <p><label for="token">Token</label> <input id="token" name="token" type="password" autocomplete="off" required pattern="[0-9a-fA-F]{64}"></p>
    <p><button type="submit">Use token</button></p>
  </form>
  <div class="scroll"><table id="mandate-table" aria-labelledby="mandates-h">
    <thead><tr><th scope="col">#</th><th scope="col">Article</th><th scope="col">Side</th><th scope="col">Price limit</th><th scope="col">Trades left</th><th scope="col">Expires</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>

<section id="workers" aria-labelledby="workers-h">
  <h2 id="workers-h">Workers</h2>
  <div class="scroll"><table id="worker-table" aria-labelledby="workers-h">
    <thead><tr><th scope="col">Id</th><th scope="col">Article</th><th scope="col">State</th><th scope="col">Jobs</th><th scope="col">Waiting for</th><th scope="col">Last error</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>

<section id="store" aria-labelledby="store-h">
  <h2 id="store-h">Chunk store</h2>
  <dl class="facts" id="store-stats" aria-labelledby="store-h"></dl>
</section>

</main>
<footer><p class="muted">Served by the node; no external requests. <a href="/metrics">Metrics</a></p></footer>
</body>
</html>
`
