// @ts-check
/**
 * Checkpoint viewer webview: a filterable tree of modules → tensors with dtype, shape, parameter count
 * and bytes. Rows are virtualised (only the visible ones exist in the DOM), so 100,000 tensors scroll
 * as smoothly as 100. The data is the `keys` answer of the language server, posted by the host.
 */
/** @typedef {import('../client/src/webviewMessages').ViewerMessage} ViewerMessage */
/** @typedef {import('../client/src/webviewMessages').FromViewer} FromViewer */
/** @typedef {import('../server/src/formats/keysDocument').KeysDocumentTensor} Tensor */
/** @type {Record<string, string>} */
const CONTENT = { 'optimizer-state': 'optimizer state', 'scheduler-state': 'scheduler state', 'rng-state': 'RNG state' };
(function () {
  /** @type {import('vscode-webview').WebviewApi<{ expanded: Record<string, boolean>, filter: string }>} */
  const vscode = acquireVsCodeApi();
  /** @param {FromViewer} m */
  const post = (m) => vscode.postMessage(m);
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  const ROW = 22;
  /** @type {{ expanded: Record<string, boolean>, filter: string }} */
  const state = Object.assign({ expanded: {}, filter: '' }, vscode.getState() || {});
  /** @type {any} */ let root = null;
  /** @type {any[]} */ let rows = [];
  /** @type {HTMLElement} */ let viewport = document.createElement('div');
  /** @type {HTMLElement} */ let spacer = document.createElement('div');

  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const fmtInt = (n) => n.toLocaleString('en-US');
  const fmtBytes = (n) => { const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; let v = n, i = 0; while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; } return i ? `${v.toFixed(1)} ${u[i]}` : `${n} B`; };
  const numel = (s) => s.reduce((a, b) => a * (typeof b === 'number' ? b : 1), 1);

  window.addEventListener('message', (/** @type {MessageEvent<ViewerMessage>} */ ev) => {
    const m = ev.data;
    if (m.type === 'loading') { app.replaceChildren(el('p', 'summary', `Reading ${m.file}…`)); return; }
    if (m.type === 'keys') render(m.file, m.result);
  });
  post({ type: 'ready' });

  function render(file, result) {
    app.replaceChildren();
    const header = el('header');
    header.append(el('h1', '', file));
    app.append(header);
    if (!result.ok) {
      // Trainer's settings, an LFS pointer, a partial download: said as what they are, not as a failure.
      const other = result.code === 'not-a-checkpoint';
      const box = el('div', other ? 'info' : 'error');
      box.append(el('strong', '', other ? 'Not a tensor checkpoint: ' : 'This checkpoint cannot be read. '), document.createTextNode(result.message));
      app.append(box);
      return;
    }
    const k = result.keys;
    root = buildTree(k.tensors);
    const total = root;
    const content = k.content ? ` · ${CONTENT[k.content] ?? k.content}` : '';
    header.append(el('div', 'summary', `${k.format}${content}${k.framework ? ` · ${k.framework} layout` : ''}${k.shapeOrder === 'ggml' ? ' · shapes in GGUF order' : ''} · ${fmtInt(total.count)} ${total.count === 1 ? 'tensor' : 'tensors'} · ${fmtInt(total.params)} ${total.params === 1 ? 'parameter' : 'parameters'} · ${fmtBytes(total.bytes)}`));
    if (k.notes && k.notes.length) {
      const ul = el('ul', 'notes');
      for (const n of k.notes) ul.append(el('li', '', n));
      header.append(ul);
    }
    if (k.metadata && Object.keys(k.metadata).length) {
      const d = el('details', 'meta');
      d.append(el('summary', '', `Metadata (${Object.keys(k.metadata).length})`));
      const t = el('table');
      for (const [key, v] of Object.entries(k.metadata)) { const tr = el('tr'); tr.append(el('td', '', key), el('td', '', String(v))); t.append(tr); }
      d.append(t);
      header.append(d);
    }
    const bar = el('div', 'toolbar');
    const input = /** @type {HTMLInputElement} */ (el('input'));
    input.type = 'search';
    input.placeholder = 'Filter keys (e.g. layer.3 or attn.q)';
    input.setAttribute('aria-label', 'Filter keys');
    input.value = state.filter;
    const count = el('span', 'count');
    input.addEventListener('input', () => { state.filter = input.value; save(); refresh(count); });
    bar.append(input, count);
    const cols = el('div', 'cols');
    for (const c of ['key', 'dtype', 'shape', 'parameters', 'bytes']) cols.append(el('span', c === 'key' || c === 'dtype' || c === 'shape' ? '' : 'num', c));
    viewport = el('div', 'viewport');
    viewport.setAttribute('role', 'tree');
    spacer = el('div');
    viewport.append(spacer);
    viewport.addEventListener('scroll', draw);
    window.addEventListener('resize', draw);
    app.append(bar, cols, viewport);
    refresh(count);
  }

  /**
   * @typedef {{ name: string, t: Tensor, params: number, bytes: number }} Leaf
   * @typedef {{ name: string, path: string, children: Map<string, Node>, tensors: Leaf[], count: number, params: number, bytes: number }} Node
   */
  /** Modules → tensors, with totals per module; a key's segments are its path. @param {Tensor[]} tensors */
  function buildTree(tensors) {
    /** @type {Node} */
    const top = { name: '', path: '', children: new Map(), tensors: [], count: 0, params: 0, bytes: 0 };
    for (const t of tensors) {
      const segs = t.key.split('.');
      const params = numel(t.shape);
      const bytes = t.bytes;
      let node = top;
      node.count++; node.params += params; node.bytes += bytes;
      for (let i = 0; i < segs.length - 1; i++) {
        let next = node.children.get(segs[i]);
        if (!next) { next = { name: segs[i], path: segs.slice(0, i + 1).join('.'), children: new Map(), tensors: [], count: 0, params: 0, bytes: 0 }; node.children.set(segs[i], next); }
        node = next;
        node.count++; node.params += params; node.bytes += bytes;
      }
      node.tensors.push({ name: segs[segs.length - 1], t, params, bytes });
    }
    return top;
  }

  function isExpanded(node, depth) {
    return state.expanded[node.path] ?? depth < 1;
  }

  /** The visible rows: the tree as expanded, or a flat list of matches while filtering. */
  function flatten() {
    const out = [];
    const f = state.filter.trim().toLowerCase();
    if (f) {
      const walk = (node) => {
        for (const x of node.tensors) if (x.t.key.toLowerCase().includes(f)) out.push({ kind: 'tensor', depth: 0, label: x.t.key, x });
        for (const c of node.children.values()) walk(c);
      };
      walk(root);
      return out;
    }
    const walk = (node, depth) => {
      for (const c of node.children.values()) {
        out.push({ kind: 'module', depth, node: c });
        if (isExpanded(c, depth)) walk(c, depth + 1);
      }
      for (const x of node.tensors) out.push({ kind: 'tensor', depth, label: x.name, x });
    };
    walk(root, 0);
    return out;
  }

  function refresh(count) {
    rows = flatten();
    count.textContent = state.filter.trim() ? `${fmtInt(rows.length)} matching ${rows.length === 1 ? 'tensor' : 'tensors'}` : '';
    if (spacer) spacer.style.height = `${rows.length * ROW}px`;
    draw();
  }

  function draw() {
    if (!viewport || !spacer) return;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - 10);
    const last = Math.min(rows.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + 10);
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) frag.append(rowElement(rows[i], i));
    spacer.replaceChildren(frag);
  }

  function rowElement(r, i) {
    const e = el('div', `row ${r.kind}`);
    e.style.top = `${i * ROW}px`;
    e.setAttribute('role', 'treeitem');
    const name = el('span', 'name');
    name.style.paddingLeft = `${r.depth * 14}px`;
    if (r.kind === 'module') {
      const open = isExpanded(r.node, r.depth);
      e.setAttribute('aria-expanded', String(open));
      const b = el('button', 'toggle', open ? '▾' : '▸');
      b.setAttribute('aria-label', `${open ? 'Collapse' : 'Expand'} ${r.node.path}`);
      b.addEventListener('click', () => { state.expanded[r.node.path] = !open; save(); refresh(/** @type {HTMLElement} */ (document.querySelector('.count'))); });
      name.append(b, document.createTextNode(`${r.node.name}  (${fmtInt(r.node.count)})`));
      name.title = r.node.path;
      e.append(name, el('span', 'dtype', ''), el('span', '', ''), el('span', 'num', fmtInt(r.node.params)), el('span', 'num', fmtBytes(r.node.bytes)));
    } else {
      name.textContent = r.label;
      name.title = r.x.t.key;
      e.append(name, el('span', 'dtype', r.x.t.dtype), el('span', '', `[${r.x.t.shape.join(', ')}]`), el('span', 'num', fmtInt(r.x.params)), el('span', 'num', fmtBytes(r.x.bytes)));
    }
    return e;
  }

  function save() { vscode.setState({ expanded: state.expanded, filter: state.filter }); }
})();
