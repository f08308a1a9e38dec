/**
 * The test page's HTML and script, as served (no build step, no inline script:
 * the page's CSP allows same-origin scripts only). The script reads the
 * operator token from the page's URL, opens each endpoint on request, and
 * logs every frame both ways.
 */
export const TEST_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Courtside WebSocket test</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem; background: #f6f7f9; color: #1d2330; }
  h1 { font-size: 1.2rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; }
  section { background: #fff; border: 1px solid #d5d9e0; border-radius: 6px; padding: .75rem; }
  h2 { font-size: 1rem; margin: 0 0 .5rem; }
  label { display: block; margin: .25rem 0; }
  input, select, textarea { font: 13px ui-monospace, monospace; width: 100%; box-sizing: border-box; }
  textarea { height: 6rem; }
  button { margin: .25rem .25rem .25rem 0; }
  .status { font-weight: 600; }
  pre { background: #10131a; color: #d7e0ee; height: 16rem; overflow: auto; padding: .5rem; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
  .out { color: #8fd3ff; } .in { color: #b6f0a8; } .err { color: #ff9e9e; }
</style>
</head>
<body>
<h1>Courtside WebSocket test</h1>
<p>Opens the board, player and admin endpoints of this gateway. Pick a frame, edit it, send it, read the answers.</p>
<div class="grid">
  <section id="board"><h2>Board: /ws/esp32/{device_code}/</h2>
    <label>Device code <input name="id" value="test-board-1"></label>
    <label>Device token (token mode) <input name="device_token" value=""></label>
  </section>
  <section id="player"><h2>Player: /ws/miniprogram/{user_id}/</h2>
    <label>User id <input name="id" value="test-player-1"></label>
    <label>Device token (token mode) <input name="device_token" value=""></label>
  </section>
  <section id="admin"><h2>Admin: /ws/admin/</h2></section>
</div>
<script type="module" src="/websocket-test/page.js"></script>
</body>
</html>
`;

export const TEST_PAGE_SCRIPT = `const token = new URLSearchParams(location.search).get('token') ?? '';
const base = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
const frames = await (await fetch('/websocket-test/frames.json')).json();

function urlFor(kind, section) {
  const q = (k, v) => k + '=' + encodeURIComponent(v);
  if (kind === 'admin') return base + '/ws/admin/?' + q('token', token);
  const id = encodeURIComponent(section.querySelector('[name=id]').value.trim());
  const device = section.querySelector('[name=device_token]').value.trim();
  const path = kind === 'board' ? '/ws/esp32/' + id + '/' : '/ws/miniprogram/' + id + '/';
  // The operator's token lets this page, a browser, open a device endpoint.
  return base + path + '?' + q('operator_token', token) + (device ? '&' + q('token', device) : '');
}

function panel(kind) {
  const section = document.getElementById(kind);
  const make = (tag, props) => Object.assign(document.createElement(tag), props);
  const status = make('div', { className: 'status', textContent: 'closed' });
  const connect = make('button', { textContent: 'Connect', name: 'connect' });
  const disconnect = make('button', { textContent: 'Disconnect', name: 'disconnect', disabled: true });
  const select = make('select', { name: 'type' });
  for (const type of Object.keys(frames[kind])) select.append(make('option', { value: type, textContent: type }));
  const text = make('textarea', { name: 'frame', spellcheck: false });
  const send = make('button', { textContent: 'Send', name: 'send', disabled: true });
  const log = make('pre', { className: 'log' });
  const fill = () => { text.value = JSON.stringify(frames[kind][select.value], null, 0); };
  select.addEventListener('change', fill);
  fill();
  section.append(status, connect, disconnect, make('label', { textContent: 'Frame type' }), select, text, send, log);
  const line = (cls, s) => {
    const el = make('div', { className: cls, textContent: new Date().toISOString().slice(11, 23) + ' ' + s });
    log.append(el);
    log.scrollTop = log.scrollHeight;
  };
  let ws = null;
  const set = (s) => { status.textContent = s; const open = s === 'open'; send.disabled = !open; disconnect.disabled = !ws; connect.disabled = !!ws; };
  connect.addEventListener('click', () => {
    const url = urlFor(kind, section);
    line('out', 'connecting ' + url.replace(/token=[^&]*/g, 'token=…'));
    ws = new WebSocket(url);
    set('connecting');
    ws.onopen = () => set('open');
    ws.onmessage = (ev) => line('in', '← ' + (typeof ev.data === 'string' ? ev.data : '(binary ' + ev.data.size + ' bytes)'));
    ws.onclose = (ev) => { line('err', 'closed ' + ev.code + (ev.reason ? ' ' + ev.reason : '')); ws = null; set('closed'); };
  });
  disconnect.addEventListener('click', () => ws?.close(1000, 'test page'));
  send.addEventListener('click', () => {
    if (!ws) return;
    ws.send(text.value);
    line('out', '→ ' + text.value);
  });
}

for (const kind of ['board', 'player', 'admin']) panel(kind);
document.body.dataset.ready = 'true';
`;
