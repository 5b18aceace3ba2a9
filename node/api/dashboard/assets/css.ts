/** The dashboard's style sheet: plain CSS, light/dark by the user's preference, one column on phones. */
export const DASHBOARD_CSS = `:root {
  --bg: #f7f7f5; --fg: #1c1c1c; --muted: #5b5b5b; --card: #fff; --line: #d9d9d4;
  --buy: #1b7f3b; --sell: #b3261e; --accent: #2457c5; --ok: #1b7f3b; --bad: #b3261e;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #141414; --fg: #ececec; --muted: #a5a5a5; --card: #1f1f1f; --line: #3a3a3a;
    --buy: #4fc874; --sell: #ff7a70; --accent: #7aa2ff; --ok: #4fc874; --bad: #ff7a70; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 1em; padding: .6em 1em; background: var(--card); border-bottom: 1px solid var(--line); }
header.top h1 { font-size: 1.15em; margin: 0; }
.live { margin: 0; font-size: .9em; }
.live::before { content: ""; display: inline-block; width: .7em; height: .7em; border-radius: 50%; margin-right: .4em; background: var(--muted); vertical-align: -.05em; }
.live[data-state="live"]::before { background: var(--ok); }
.live[data-state="offline"]::before { background: var(--bad); }
nav { padding: .4em 1em; display: flex; flex-wrap: wrap; gap: .3em 1em; font-size: .9em; }
a { color: var(--accent); }
main { padding: 0 1em 2em; display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 34em), 1fr)); gap: 1em; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6em 1em 1em; min-width: 0; }
h2 { font-size: 1.1em; margin: .3em 0 .6em; }
h3 { font-size: 1em; margin: .9em 0 .4em; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
caption { text-align: left; font-weight: 600; padding: .2em 0; }
th, td { text-align: left; padding: .25em .5em .25em 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
.scroll { overflow-x: auto; }
.short { max-height: 16em; overflow-y: auto; }
.mono, code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85em; word-break: break-all; }
pre { white-space: pre-wrap; margin: .3em 0; padding: .4em; background: var(--bg); border-radius: 4px; }
.plain { list-style: none; padding: 0; margin: 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; min-width: 0; }
.muted { color: var(--muted); font-size: .9em; }
.error { margin: .5em 1em; padding: .5em 1em; border: 1px solid var(--bad); color: var(--bad); border-radius: 6px; background: var(--card); }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 16em), 1fr)); gap: 1em; }
.book { display: grid; grid-template-columns: 1fr 1fr; gap: .6em; }
.book td:last-child { width: 40%; }
.bar { display: block; height: .8em; border-radius: 2px; min-width: 2px; }
#book-buys .bar, .side-BUY { background: var(--buy); }
#book-sells .bar, .side-SELL { background: var(--sell); }
.tag { display: inline-block; padding: 0 .4em; border-radius: 3px; font-size: .85em; font-weight: 600; }
.tag.side-BUY, .tag.side-SELL { color: #fff; }
.phase-FINISHED { color: var(--ok); font-weight: 600; }
.phase-FAILED, .phase-EXPIRED { color: var(--bad); font-weight: 600; }
.sig-ok { color: var(--ok); font-weight: 600; }
.sig-bad { color: var(--bad); font-weight: 600; }
progress { width: 7em; height: .9em; vertical-align: middle; accent-color: var(--accent); }
#chart svg { width: 100%; height: auto; display: block; }
#chart { margin: 0; }
.chart-line { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart-dot { fill: var(--accent); }
.chart-axis { stroke: var(--line); stroke-width: 1; }
.chart-label { fill: var(--muted); font-size: 10px; }
details { border-bottom: 1px solid var(--line); padding: .3em 0; }
summary { cursor: pointer; }
ol.timeline { padding-left: 1.4em; margin: .4em 0; }
ol.timeline li { margin-bottom: .5em; }
.form p { display: flex; flex-wrap: wrap; align-items: center; gap: .3em .6em; margin: .35em 0; }
.form label { min-width: 7.5em; }
input, select, button { font: inherit; padding: .3em .5em; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); max-width: 100%; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: transparent; color: var(--accent); }
.images { display: flex; flex-wrap: wrap; gap: 1em; }
.images figure { margin: 0; max-width: 100%; }
.tile-stack { position: relative; display: inline-block; max-width: 100%; background: repeating-conic-gradient(var(--line) 0 25%, transparent 0 50%) 0 0 / 16px 16px; }
.tile-stack img, .tile-stack svg { display: block; max-width: 100%; height: auto; }
.tile-stack svg { position: absolute; inset: 0; width: 100%; height: 100%; }
.tile-pending { fill: none; stroke: var(--accent); stroke-dasharray: 4 3; }
.tile-failed { fill: rgba(179, 38, 30, .35); stroke: var(--bad); }
.tile-done { fill: none; stroke: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { padding: 0 1em 1em; }
@media (max-width: 40em) {
  body { font-size: 14px; }
  main { padding: 0 .5em 1em; }
  section { padding: .5em .6em .8em; }
  .book { grid-template-columns: 1fr; }
  .facts { grid-template-columns: 1fr; }
  .facts dt { margin-top: .3em; }
  .form label { min-width: 100%; }
}
`
