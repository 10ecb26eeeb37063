// The dashboard page: preact + htm (no build-time JSX), bundled by esbuild into
// dist/dashboard-ui/app.js. It renders snapshots the server pushes as server-sent events.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const csrf = document.querySelector('meta[name="fcp-csrf"]')?.getAttribute('content') ?? '';

const ago = (at) => {
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};
const bytes = (n) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);
const ms = (n) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
const stateOf = (d) => (d.self ? 'self' : !d.online ? 'offline' : d.member ? 'online' : 'offline');

function Badge({ kind, children }) {
  return html`<span class=${`badge ${kind}`}>${children}</span>`;
}

/** The devices as a graph: this device in the middle, each peer on a circle, its link drawn by path. */
function DeviceGraph({ devices }) {
  const W = 440;
  const H = 260;
  const cx = W / 2;
  const cy = H / 2;
  const self = devices.find((d) => d.self);
  const peers = devices.filter((d) => !d.self);
  const pos = peers.map((d, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, peers.length) - Math.PI / 2;
    return { d, x: cx + Math.cos(a) * 170, y: cy + Math.sin(a) * 95 };
  });
  return html`<svg class="graph" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label="device graph">
    ${pos.map(
      ({ d, x, y }) => html`<g>
        <line x1=${cx} y1=${cy} x2=${x} y2=${y} class=${`link ${d.path} ${stateOf(d)}`} />
        <text x=${(cx + x) / 2} y=${(cy + y) / 2 - 4} class="link-label">${stateOf(d) === 'offline' ? 'offline' : `${d.path}${d.latencyMs != null ? ` ${ms(d.latencyMs)}` : ''}`}</text>
      </g>`,
    )}
    ${pos.map(
      ({ d, x, y }) => html`<g class=${`node ${stateOf(d)}`} data-graph-device=${d.hostName}>
        <circle cx=${x} cy=${y} r="22" />
        <text x=${x} y=${y + 4} class="node-label">${d.hostName}</text>
        <text x=${x} y=${y + 36} class="node-zones">${d.zones.join(' ')}</text>
      </g>`,
    )}
    ${self && html`<g class="node self"><circle cx=${cx} cy=${cy} r="28" /><text x=${cx} y=${cy + 4} class="node-label">${self.hostName}</text></g>`}
  </svg>`;
}

function Devices({ devices }) {
  return html`<section class="card wide">
    <h2>Devices</h2>
    <div class="split">
      <${DeviceGraph} devices=${devices} />
      <table class="devices">
        <thead><tr><th>device</th><th>state</th><th>path</th><th>latency</th><th>zones</th><th>profile</th><th>runs</th></tr></thead>
        <tbody>
          ${devices.map(
            (d) => html`<tr data-device=${d.hostName} data-state=${stateOf(d)}>
              <td><b>${d.hostName}</b><div class="dim">${d.address}</div></td>
              <td><${Badge} kind=${stateOf(d)}>${stateOf(d) === 'self' ? 'this device' : stateOf(d)}<//></td>
              <td>${d.path}</td>
              <td>${d.latencyMs == null ? '–' : ms(d.latencyMs)}</td>
              <td>${d.zones.map((z) => html`<${Badge} kind="zone">${z}<//> `)}</td>
              <td class="dim">${d.profile ? Object.entries(d.profile).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k}=${v}`).join(' ') : '–'}</td>
              <td>${d.runs.join(', ') || '–'}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

/** Devices × blocks of each object: how many symbols each device holds of each block. */
function PlacementMap({ objects, devices }) {
  const names = devices.map((d) => d.hostName);
  const max = Math.max(1, ...objects.flatMap((o) => o.holders.flatMap((h) => h.blocks)));
  if (objects.length === 0) return html`<p class="dim">No objects yet.</p>`;
  return html`<div class="placement-scroll"><table class="placement">
    <thead>
      <tr><th></th>${objects.map((o) => html`<th colspan=${Math.max(1, o.holders[0]?.blocks.length ?? 1)} class=${o.ok ? 'ok' : 'bad'} title=${o.objectId}>${o.objectId.slice(0, 8)}</th>`)}</tr>
    </thead>
    <tbody>
      ${names.map(
        (n) => html`<tr>
          <th>${n}</th>
          ${objects.flatMap((o) => {
            const held = o.holders.find((h) => h.hostName === n);
            const blocks = Math.max(1, o.holders[0]?.blocks.length ?? 1);
            return Array.from({ length: blocks }, (_, b) => {
              const c = held?.blocks[b] ?? 0;
              return html`<td class=${`cell${c / max > 0.5 ? ' dark' : ''}`} style=${`--fill:${c / max}`} title=${`${n}: ${c} symbols of block ${b} of ${o.objectId.slice(0, 12)}`}>${c || ''}</td>`;
            });
          })}
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

function Objects({ snap }) {
  return html`<section class="card wide">
    <h2>Objects <span class="dim">${snap.objects.length} newest of ${snap.objectCount}</span></h2>
    <${PlacementMap} objects=${snap.objects} devices=${snap.devices} />
    <table class="objects">
      <thead><tr><th>object</th><th>zone</th><th>kind</th><th>size</th><th>health</th><th>spare</th><th>devices</th></tr></thead>
      <tbody>
        ${snap.objects.map(
          (o) => html`<tr data-object=${o.objectId} data-ok=${String(o.ok)}>
            <td class="mono">${o.objectId.slice(0, 16)}…</td><td><${Badge} kind="zone">${o.zone}<//></td><td class="dim">${o.schema}</td>
            <td>${bytes(o.length)}</td><td><${Badge} kind=${o.ok ? 'online' : 'offline'}>${o.ok ? 'healthy' : 'short'}<//></td>
            <td>${o.spare}</td><td>${o.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ')}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'x-fcp-csrf': csrf, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const answer = await res.json();
  if (!res.ok) throw new Error(answer.error?.message ?? `HTTP ${res.status}`);
  return answer;
}

function Repair({ snap }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = (path) => async () => {
    setBusy(true);
    setError(null);
    try {
      await post(path);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const r = snap.repair;
  return html`<section class="card">
    <h2>Repair and scrub</h2>
    ${snap.viewer.owner
      ? html`<div class="actions"><button id="repair-now" disabled=${busy} onClick=${run('/api/repair')}>Repair now</button> <button id="scrub-now" disabled=${busy} onClick=${run('/api/scrub')}>Scrub now</button></div>`
      : html`<p class="dim">Only the owner may repair or scrub.</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <dl class="stats">
      <dt>passes</dt><dd>${r.passes}</dd><dt>repaired</dt><dd>${r.repaired}</dd><dt>rebalanced</dt><dd>${r.rebalanced}</dd>
      <dt>symbols added</dt><dd>${r.symbolsAdded}</dd><dt>scrubbed</dt><dd>${r.scrubbed}</dd><dt>corrupt found</dt><dd>${r.corruptFound}</dd>
    </dl>
    <ul class="activity">
      ${snap.activity.map((a) => html`<li data-activity=${a.kind} data-activity-state=${a.state}><${Badge} kind=${a.state === 'done' ? 'online' : a.state === 'failed' ? 'offline' : 'zone'}>${a.kind} ${a.state}<//> ${a.summary} <span class="dim">by ${a.by}, ${ago(a.at)}</span></li>`)}
    </ul>
  </section>`;
}

function Secrets({ secrets }) {
  return html`<section class="card">
    <h2>Secrets</h2>
    ${secrets.length === 0
      ? html`<p class="dim">No secrets.</p>`
      : html`<table><thead><tr><th>name</th><th>zone</th><th>k-of-n</th><th>shares online</th></tr></thead><tbody>
      ${secrets.map((s) => html`<tr data-secret=${s.name}><td>${s.name}</td><td><${Badge} kind="zone">${s.zone}<//></td><td>${s.k} of ${s.n}</td><td><${Badge} kind=${s.available >= s.k ? 'online' : 'offline'}>${s.available} / ${s.n}<//></td></tr>`)}
    </tbody></table>`}
  </section>`;
}

function size(n) {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function Names({ names }) {
  return html`<section class="card wide">
    <h2>Names <span class="dim">the files kept by name, in the zones you may read</span></h2>
    ${names.length === 0
      ? html`<p class="dim">No names you may see.</p>`
      : names.map((z) => html`<h3><${Badge} kind="zone">${z.zone}<//> <span class="dim">${z.total} name${z.total === 1 ? '' : 's'}${z.total > z.entries.length ? `, first ${z.entries.length}` : ''}</span></h3>
        <table class="names"><thead><tr><th>path</th><th>size</th><th>changed</th><th>by</th></tr></thead><tbody>
        ${z.entries.map((e) => html`<tr data-name=${`${z.zone}:${e.path}`}><td>${e.path}${e.kind === 'dir' ? '/' : ''}</td><td>${size(e.size)}</td><td class="dim">${ago(e.mtime)}</td><td>${e.by}</td></tr>`)}
        </tbody></table>`)}
  </section>`;
}

function Tokens({ snap }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const revoke = (id) => async () => {
    setBusy(id);
    setError(null);
    try {
      await post('/api/tokens/revoke', { id });
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(null);
    }
  };
  const now = Date.now() / 1000;
  return html`<section class="card">
    <h2>Capability tokens <span class="dim">minted on ${snap.self.hostName}</span></h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${snap.tokens.length === 0
      ? html`<p class="dim">No tokens minted here.</p>`
      : html`<table><thead><tr><th>token</th><th>for</th><th>grants</th><th>state</th>${snap.viewer.owner ? html`<th></th>` : ''}</tr></thead><tbody>
      ${snap.tokens.map((t) => html`<tr data-token=${t.id} data-token-state=${t.revoked ? 'revoked' : t.expires < now ? 'expired' : 'valid'}><td>${t.id.slice(0, 12)}</td><td>${t.name}</td><td>${t.connector} ${t.ops.join(',')}</td>
        <td><${Badge} kind=${t.revoked || t.expires < now ? 'offline' : 'online'}>${t.revoked ? 'revoked' : t.expires < now ? 'expired' : 'valid'}<//></td>
        ${snap.viewer.owner ? html`<td>${t.revoked || t.expires < now ? '' : html`<button class="revoke" disabled=${busy !== null} onClick=${revoke(t.id)}>${busy === t.id ? 'Revoking…' : 'Revoke'}</button>`}</td>` : ''}</tr>`)}
    </tbody></table>`}
  </section>`;
}

function MoveConnector({ c, devices }) {
  const [to, setTo] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const others = devices.filter((d) => d.member && d.hostName !== c.runningOn).map((d) => d.hostName);
  const move = async () => {
    setBusy(true);
    setError(null);
    try {
      await post('/api/connectors/move', { id: c.id, device: to || others[0] });
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  if (others.length === 0) return '';
  return html`<span class="move"><select aria-label=${`move ${c.id} to`} onChange=${(e) => setTo(e.target.value)}>${others.map((n) => html`<option value=${n}>${n}</option>`)}</select> <button class="move" disabled=${busy} onClick=${move}>${busy ? 'Moving…' : 'Move'}</button>${error && html` <span class="error" role="alert">${error}</span>`}</span>`;
}

function Connectors({ snap }) {
  return html`<section class="card">
    <h2>Connectors</h2>
    ${snap.connectors.length === 0
      ? html`<p class="dim">No connectors installed.</p>`
      : html`<table><thead><tr><th>connector</th><th>zone</th><th>runs on</th><th>health</th></tr></thead><tbody>
      ${snap.connectors.map((c) => html`<tr data-connector=${c.id} data-running-on=${c.runningOn ?? ''}><td>${c.id}</td><td><${Badge} kind="zone">${c.zone}<//></td><td>${c.runningOn ?? '–'}${c.preferred && c.preferred !== c.runningOn ? html` <span class="dim">(prefers ${c.preferred})</span>` : ''}</td><td><${Badge} kind=${c.healthy ? 'online' : 'offline'}>${c.healthy ? 'running' : 'not running'}<//></td>${snap.viewer.owner ? html`<td><${MoveConnector} c=${c} devices=${snap.devices} /></td>` : ''}</tr>`)}
    </tbody></table>`}
    <h3>Recent invokes</h3>
    ${snap.invokes.length === 0 ? html`<p class="dim">None yet.</p>` : html`<ul class="plain">${snap.invokes.map((i) => html`<li>${i.subject ?? '?'} <span class="dim">by ${i.principal}, ${ago(i.at)}</span> ${i.allow === false ? html`<${Badge} kind="offline">refused<//>` : ''}</li>`)}</ul>`}
  </section>`;
}

function Audit({ audit }) {
  const v = audit.verified;
  return html`<section class="card wide">
    <h2>Audit log ${v && html`<${Badge} kind=${v.ok ? 'online' : 'offline'}>${v.ok ? 'verified' : 'verification failed'}<//>`} <span class="dim">${v ? v.logs.map((l) => `${l.origin.split('/').pop()} ${l.entries}`).join(' · ') : ''}</span></h2>
    <table class="audit"><thead><tr><th>when</th><th>log</th><th>who</th><th>what</th><th>decision</th></tr></thead><tbody>
      ${audit.recent.map((e) => html`<tr><td class="dim">${ago(e.at)}</td><td>${e.zone}</td><td>${e.principal}</td><td>${e.action ?? e.kind}</td><td>${e.allow === undefined ? '' : html`<${Badge} kind=${e.allow ? 'online' : 'offline'}>${e.allow ? 'allowed' : `refused: ${e.reason ?? ''}`}<//>`}</td></tr>`)}
    </tbody></table>
  </section>`;
}

function App() {
  const [snap, setSnap] = useState(null);
  const [live, setLive] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    const es = new EventSource('/api/events');
    es.addEventListener('snapshot', (e) => {
      setSnap(JSON.parse(e.data));
      setLive(true);
      setError(null);
    });
    es.onerror = () => setLive(false);
    fetch('/api/snapshot').then(async (r) => {
      if (!r.ok) setError((await r.json()).error?.message ?? `HTTP ${r.status}`);
    }, () => undefined);
    return () => es.close();
  }, []);
  if (error && !snap) return html`<p class="error" role="alert">${error}</p>`;
  if (!snap) return html`<p class="loading">Loading the mesh…</p>`;
  const online = snap.devices.filter((d) => stateOf(d) !== 'offline').length;
  return html`<header>
      <h1>fcp mesh <span class="dim">seen from ${snap.self.hostName}</span></h1>
      <div class="who"><span id="live" class=${live ? 'live on' : 'live off'}>${live ? 'live' : 'reconnecting'}</span> ${online} of ${snap.devices.length} devices up · you are ${snap.viewer.name}${snap.viewer.owner ? ' (owner)' : ''}</div>
    </header>
    <main>
      <${Devices} devices=${snap.devices} />
      <${Objects} snap=${snap} />
      <${Names} names=${snap.names} />
      <${Repair} snap=${snap} />
      <${Secrets} secrets=${snap.secrets} />
      <${Connectors} snap=${snap} />
      <${Tokens} snap=${snap} />
      <${Audit} audit=${snap.audit} />
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
