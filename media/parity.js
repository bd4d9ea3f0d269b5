// @ts-check
/**
 * Parity panel webview: the run form (ONNX, eager — the user's own PyTorch / Paddle models — or command
 * mode), a progress bar, then the outputs table, the table by module (eager), the error by layer (uPlot)
 * with the first divergence marked and linked to its mapping lines and classes, and copy-as-JSON/Markdown. The host runs nothing here: it sends the
 * form to the language server and posts back progress and the report (parity.md's JSON).
 */
/** @typedef {import('../client/src/webviewMessages').ParityMessage} ParityMessage */
/** @typedef {import('../client/src/webviewMessages').FromParity} FromParity */
/** @typedef {import('../client/src/webviewMessages').ParityForm} ParityForm */
/** @typedef {import('../server/src/lsp/protocol').ParityReport} ParityReport */
(function () {
  /** @type {import('vscode-webview').WebviewApi<{ form: ParityForm | null, report: ParityReport | null }>} */
  const vscode = acquireVsCodeApi();
  /** @param {FromParity} m */
  const post = (m) => vscode.postMessage(m);
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const fmt = (x) => (typeof x !== 'number' ? String(x) : x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2));
  /** @type {{ form: ParityForm | null, report: ParityReport | null }} */
  const state = Object.assign({ form: null, report: null }, vscode.getState() || {});
  let trusted = false;
  /** @type {Record<string, HTMLInputElement | HTMLSelectElement>} */
  const f = {};
  let runBtn, cancelBtn, progress, status, results, untrusted;

  function field(name, label, input) {
    f[name] = input;
    input.id = `f-${name}`;
    return [el('label', { for: input.id }, label), input];
  }
  const text = (placeholder) => /** @type {HTMLInputElement} */ (el('input', { type: 'text', placeholder }));
  const select = (options) => /** @type {HTMLSelectElement} */ (el('select', {}, ...options.map((o) => el('option', { value: o }, o))));
  /** A text field with a button that asks the host for a quick pick. */
  function picker(name, label, placeholder, what) {
    const [l, input] = field(name, label, text(placeholder));
    const button = el('button', { type: 'button', class: 'secondary pick', id: `pick-${name}`, title: `Pick ${what}`, onclick: () => post({ type: 'pick', field: name }) }, '…');
    return [l, el('div', { class: 'picker' }, input, button)];
  }
  const checkbox = (name) => {
    const c = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', id: `f-${name}` }));
    f[name] = c;
    return c;
  };
  /** The fields each mode uses; the others are hidden. */
  const MODE_FIELDS = {
    onnx: ['reference', 'candidate', 'mapping', 'inputs', 'device', 'dtype', 'atol', 'rtol', 'seed', 'layers'],
    eager: ['eagerReference', 'eagerCandidate', 'mapping', 'referenceWeights', 'candidateWeights', 'launcher', 'inputs', 'device', 'dtype', 'atol', 'rtol', 'seed', 'backward'],
    command: ['command', 'cwd', 'dtype', 'atol', 'rtol'],
  };

  function render(init) {
    app.replaceChildren();
    const mode = select(['onnx', 'eager', 'command']);
    const form = el('form', { onsubmit: (e) => { e.preventDefault(); run(); } },
      ...field('mode', 'Mode', mode),
      ...field('reference', 'Reference', text('reference.onnx')),
      ...field('candidate', 'Candidate', text('candidate.onnx')),
      ...picker('eagerReference', 'Reference', 'FILE.py::NAME — a model class built with no arguments, or a function returning one', 'the reference model'),
      ...picker('eagerCandidate', 'Candidate', 'FILE.py::NAME — the port', 'the candidate model'),
      ...picker('mapping', 'Weights', 'mapping.tpmap (optional): the source checkpoint pushed through it', 'a mapping'),
      ...picker('referenceWeights', 'Reference weights', 'checkpoint (optional): the reference loads it instead of the mapping\'s source', 'the reference\'s checkpoint'),
      ...picker('candidateWeights', 'Candidate weights', 'checkpoint (optional): the candidate loads it as it is (a converted file) instead of the mapping\'s targets', 'the candidate\'s checkpoint'),
      ...field('launcher', 'Launcher', text('torchrun --nproc-per-node 2 (optional): every rank runs the probe, rank 0 reports')),
      ...field('inputs', 'Inputs', text('NAME=FILE.npy or NAME=random:1x3x224x224, space-separated (default: generated)')),
      ...field('command', 'Command', text('python compare.py (command mode: your script prints the JSON-lines protocol)')),
      ...field('cwd', 'Folder', text('working folder of the command (default: the workspace)')),
      el('label', { class: 'top' }, 'Options'),
      el('div', { class: 'inline' },
        ...field('device', 'device', select(['auto', 'cpu', 'cuda'])),
        ...field('dtype', 'dtype', select(['fp32', 'fp16', 'bf16'])),
        ...field('atol', 'atol', text('by dtype')),
        ...field('rtol', 'rtol', text('by dtype')),
        ...field('seed', 'seed', text('0')),
        el('label', { for: 'f-layers', id: 'l-layers' }, checkbox('layers'), ' first diverging layer'),
        el('label', { for: 'f-backward', id: 'l-backward' }, checkbox('backward'), ' backward (gradients)')),
      el('div', { class: 'buttons' },
        (runBtn = el('button', { type: 'submit' }, 'Run Parity Check')),
        (cancelBtn = el('button', { type: 'button', class: 'secondary', onclick: () => post({ type: 'cancel' }) }, 'Cancel'))));
    cancelBtn.disabled = true;
    progress = el('progress', { max: '100' });
    progress.hidden = true;
    status = el('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
    results = el('div', { id: 'results' });
    untrusted = el('div', { class: 'error', role: 'alert', id: 'untrusted' });
    app.append(el('h1', {}, `Parity check${init.mapping ? ` — ${init.mapping}` : ''}`), form, untrusted, progress, status, results);
    if (!state.form && init.last?.form) state.form = init.last.form;
    const values = Object.assign({}, init.defaults, { mapping: init.mapping, mode: 'onnx' }, state.form || {}, init.last?.form || {});
    for (const [k, input] of Object.entries(f)) {
      if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = !!values[k];
      else if (values[k] !== undefined) input.value = String(values[k]);
    }
    const sync = () => {
      const m = /** @type {'onnx' | 'eager' | 'command'} */ (f.mode.value);
      for (const [k, input] of Object.entries(f)) {
        if (k === 'mode') continue;
        const shown = MODE_FIELDS[m].includes(k);
        input.disabled = !shown;
        // The row: a label and its control (or a checkbox inside its label, or an input inside a picker).
        const row = input.type === 'checkbox' ? [input.parentElement] : [app.querySelector(`label[for="${input.id}"]`), input.parentElement?.classList.contains('picker') ? input.parentElement : input];
        for (const e of row) if (e) /** @type {HTMLElement} */ (e).hidden = !shown;
      }
      const labels = { onnx: 'Weights', eager: 'Mapping', command: 'Weights' };
      const weights = app.querySelector('label[for="f-mapping"]');
      if (weights) weights.textContent = labels[m];
      const refuses = m !== 'onnx' && !trusted;
      runBtn.disabled = refuses;
      runBtn.title = refuses ? `${m === 'eager' ? 'Eager mode runs your own model code' : 'Command mode runs your own script'}: it needs a trusted workspace` : '';
      untrusted.hidden = !refuses;
      untrusted.textContent = refuses ? `${m === 'eager' ? 'Eager mode runs your own model code' : 'Command mode runs your own script'}: trust this workspace first (Workspaces: Manage Workspace Trust).` : '';
    };
    f.mode.addEventListener('change', sync);
    sync();
    const last = init.last?.report || state.report;
    if (last) showReport(last, true);
  }

  /** The form as the host reads it: every field by name (the fields are built from ParityForm's names). */
  function formValues() {
    /** @type {Record<string, string | boolean>} */
    const v = {};
    for (const [k, input] of Object.entries(f)) v[k] = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value;
    return /** @type {ParityForm} */ (/** @type {unknown} */ (v));
  }

  function run() {
    const form = formValues();
    state.form = form;
    vscode.setState(state);
    post({ type: 'run', form });
  }

  window.addEventListener('message', (/** @type {MessageEvent<ParityMessage>} */ ev) => {
    const m = ev.data;
    switch (m.type) {
      case 'init': trusted = m.trusted; render(m); break;
      case 'started':
        runBtn.disabled = true; cancelBtn.disabled = false; progress.hidden = false; progress.removeAttribute('value');
        status.textContent = 'starting…'; results.replaceChildren();
        break;
      case 'progress':
        status.textContent = m.message;
        if (m.total) progress.value = Math.round((100 * (m.done || 0)) / m.total); else progress.removeAttribute('value');
        break;
      case 'result': done(); state.report = m.report; vscode.setState(state); showReport(m.report, false); break;
      case 'error': done(); results.replaceChildren(el('div', { class: 'error', role: 'alert' }, m.message)); status.textContent = ''; break;
      case 'picked': f[m.field].value = m.value; break;
      case 'saved':
        for (const b of app.querySelectorAll('button.save-tensors')) {
          if (/** @type {HTMLElement} */ (b).dataset.module === m.module) { /** @type {HTMLButtonElement} */ (b).disabled = false; b.textContent = 'Save tensors'; }
        }
        break;
    }
  });

  function done() {
    runBtn.disabled = f.mode.value !== 'onnx' && !trusted; cancelBtn.disabled = true; progress.hidden = true;
  }

  function showReport(r, restored) {
    status.textContent = restored ? 'last result for this mapping' : `ran on ${r.device} in ${Math.round(r.timings.totalMs ?? r.timings.runMs)} ms`;
    const tol = r.tolerance ? ` (atol ${fmt(r.tolerance.atol)}, rtol ${fmt(r.tolerance.rtol)})` : '';
    const out = [el('div', { class: `verdict ${r.pass ? 'pass' : 'fail'}` }, `${r.pass ? '✓ PASS' : '✗ FAIL'} — ${r.dtype} on ${r.device}${tol}`)];
    out.push(el('table', {},
      el('tr', {}, ...['output', 'shape', 'max abs diff', 'max rel diff', 'cosine', 'worst index', 'needs atol', ''].map((h) => el('th', {}, h))),
      ...r.outputs.map((o) => el('tr', { class: o.pass ? '' : 'diverges' },
        el('td', {}, o.name), el('td', {}, `[${o.shape.join(', ')}]`), el('td', { class: 'num' }, fmt(o.maxAbsDiff)), el('td', { class: 'num' }, fmt(o.maxRelDiff)),
        el('td', { class: 'num' }, fmt(o.cosine)), el('td', {}, `[${(o.worstIndex || []).join(', ')}]`),
        el('td', { class: 'num' }, o.requiredTolerance ? fmt(o.requiredTolerance.atol) : ''), el('td', { class: o.pass ? 'pass' : 'fail' }, o.pass ? 'pass' : 'fail')))));
    const d = r.firstDivergence;
    if (r.mode === 'eager') {
      eager(r, out);
    } else if (d) {
      out.push(el('div', { class: 'verdict fail' }, `First divergence: ${d.candidate}`));
      const rows = [el('tr', {}, el('td', {}, 'reference'), el('td', {}, d.reference)), el('tr', {}, el('td', {}, 'candidate'), el('td', {}, d.candidate)),
        el('tr', {}, el('td', {}, 'max abs diff'), el('td', {}, fmt(d.maxAbsDiff))), el('tr', {}, el('td', {}, 'cosine'), el('td', {}, fmt(d.cosine)))];
      for (const m of d.mapping || []) {
        rows.push(el('tr', {}, el('td', {}, `mapping line ${m.line}`), el('td', {}, el('a', { onclick: () => post({ type: 'openMapping', line: m.line }), title: 'Open this line of the mapping' }, m.text))));
      }
      out.push(el('table', {}, ...rows));
    } else if (r.layers) {
      out.push(el('div', { class: 'notes' }, 'Every paired intermediate value agrees.'));
    }
    if (r.layers && r.layers.length && r.mode !== 'eager') out.push(el('div', { id: 'chart', role: 'img', 'aria-label': 'Max abs diff by layer' }));
    if (r.notes && r.notes.length) out.push(el('ul', { class: 'notes' }, ...r.notes.map((n) => el('li', {}, n))));
    out.push(el('div', { class: 'buttons' },
      el('button', { type: 'button', class: 'secondary', onclick: () => post({ type: 'copy', text: JSON.stringify(r, null, 1) }) }, 'Copy as JSON'),
      el('button', { type: 'button', class: 'secondary', onclick: () => post({ type: 'copy', text: markdown(r) }) }, 'Copy as Markdown')));
    results.replaceChildren(...out);
    if (r.layers && r.layers.length) chart(r);
  }

  /** Error by layer on a log scale, the first divergence marked with a vertical line. */
  function chart(r) {
    const box = /** @type {HTMLElement} */ (document.getElementById('chart'));
    const xs = r.layers.map((_, i) => i + 1);
    const ys = r.layers.map((l) => Math.max(l.maxAbsDiff, 1e-12));
    const first = r.layers.findIndex((l) => !l.pass);
    const css = getComputedStyle(document.body);
    const fg = css.getPropertyValue('--vscode-foreground') || '#ccc';
    const red = css.getPropertyValue('--vscode-errorForeground') || '#f44';
    const line = css.getPropertyValue('--vscode-charts-blue') || '#4af';
    new uPlot({
      width: Math.min(900, box.clientWidth || 700), height: 260,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ stroke: fg, label: r.mode === 'eager' ? 'paired module call (reference order)' : 'paired intermediate value (graph order)' },
        { stroke: fg, label: 'max abs diff', size: 60, values: (_u, vals) => vals.map((v) => (v == null ? '' : v.toExponential(0))) }],
      series: [{ label: r.mode === 'eager' ? 'module' : 'value', value: (_u, i) => (i == null ? '' : r.layers[i - 1] ? `${i} ${r.layers[i - 1].reference}` : String(i)) },
        { label: 'max abs diff', stroke: line, width: 2, points: { show: true } }],
      hooks: {
        draw: [(u) => {
          if (first < 0) return;
          const x = u.valToPos(first + 1, 'x', true);
          u.ctx.save(); u.ctx.strokeStyle = red; u.ctx.lineWidth = 2; u.ctx.setLineDash([4, 4]);
          u.ctx.beginPath(); u.ctx.moveTo(x, u.bbox.top); u.ctx.lineTo(x, u.bbox.top + u.bbox.height); u.ctx.stroke(); u.ctx.restore();
        }],
      },
    }, [xs, ys], box);
  }

  /** A class's definition as Python reported it: a link that opens it (none for a file Python did not name). */
  function classLink(src) {
    if (!src) return '';
    const where = src.file ? `${src.file.split(/[\\/]/).pop()}:${src.line ?? ''}` : '';
    if (!src.file) return src.class;
    return el('a', { class: 'source', onclick: () => post({ type: 'openSource', file: src.file, line: src.line }), title: `Open ${src.file}` }, `${src.class} (${where})`);
  }

  /** Eager mode: the first divergence with its links, the table by module, and backward's gradients. */
  function eager(r, out) {
    const d = r.firstDivergence;
    const mapping = (state.form && state.form.mapping) || '';
    const openLine = (line) => post({ type: 'openMapping', line, file: mapping || undefined });
    if (d) {
      out.push(el('div', { class: 'verdict fail', id: 'first-divergence' }, `First divergence: ${d.module || d.candidate}`));
      const rows = [
        el('tr', {}, el('td', {}, 'reference'), el('td', {}, d.reference), el('td', {}, classLink(d.sources && d.sources.reference))),
        el('tr', {}, el('td', {}, 'candidate'), el('td', {}, d.candidate), el('td', {}, classLink(d.sources && d.sources.candidate))),
      ];
      if (d.reason) rows.push(el('tr', {}, el('td', {}, 'reason'), el('td', { colspan: '2' }, d.reason)));
      else rows.push(el('tr', {}, el('td', {}, 'max abs diff'), el('td', { colspan: '2' }, `${fmt(d.maxAbsDiff)} (cosine ${fmt(d.cosine)})`)));
      if (d.lastAgreeing) rows.push(el('tr', {}, el('td', {}, 'after'), el('td', { colspan: '2' }, `${d.lastAgreeing.reference} ↔ ${d.lastAgreeing.candidate} (still agreeing)`)));
      if (d.within) rows.push(el('tr', {}, el('td', {}, 'within'), el('td', {}, `${d.within.reference} ↔ ${d.within.candidate}`), el('td', {}, classLink(d.within.sources && d.within.sources.candidate))));
      for (const m of d.mappingLines || []) {
        rows.push(el('tr', {}, el('td', {}, `mapping line ${m.line}`), el('td', { colspan: '2' }, el('a', { class: 'mapping-line', onclick: () => openLine(m.line), title: 'Open this line of the mapping' }, m.text))));
      }
      out.push(el('table', { class: 'divergence' }, ...rows));
    } else if (r.layers) {
      out.push(el('div', { class: 'notes' }, `Every paired module agrees (${r.layers.length} module calls).`));
    }
    if (r.layers && r.layers.length) {
      out.push(el('h2', {}, 'By module'));
      out.push(el('div', { class: 'scroll' }, el('table', { id: 'modules' },
        el('tr', {}, ...['reference module', 'candidate module', 'shape', 'max abs diff', 'max rel diff', 'cosine', '', ''].map((h) => el('th', {}, h))),
        ...r.layers.map((l) => el('tr', { class: d && l.reference === d.reference && l.candidate === d.candidate ? 'diverges first' : l.pass ? '' : 'diverges' },
          el('td', {}, l.reference), el('td', {}, l.candidate), el('td', {}, `[${l.shape.join(', ')}]`),
          el('td', { class: 'num' }, fmt(l.maxAbsDiff)), el('td', { class: 'num' }, fmt(l.maxRelDiff)), el('td', { class: 'num' }, fmt(l.cosine)),
          el('td', { class: l.pass ? 'pass' : 'fail', title: l.reason || '' }, l.pass ? 'pass' : 'fail'),
          el('td', {}, saveButton(l)))))));
      out.push(el('div', { id: 'chart', role: 'img', 'aria-label': 'Max abs diff by module' }));
    }
    if (r.ranks && r.ranks.length) {
      out.push(el('h2', {}, `Ranks: ${r.ranks.length} ran the probe, rank 0 reported`));
      out.push(el('table', { id: 'ranks' },
        el('tr', {}, ...['rank', 'module pairs outside tolerance', 'outputs'].map((h) => el('th', {}, h))),
        ...r.ranks.map((k) => el('tr', { class: k.failing || !k.outputsPass ? 'diverges' : '' },
          el('td', {}, String(k.rank)), el('td', { class: 'num' }, `${k.failing} of ${k.layers}`),
          el('td', { class: k.outputsPass ? 'pass' : 'fail' }, k.outputsPass ? 'pass' : 'fail')))));
    }
    const b = r.backward;
    if (b) {
      out.push(el('h2', {}, `Backward: ${b.pass ? 'every gradient agrees' : `first diverging gradient ${b.firstDivergence ? b.firstDivergence.candidate : ''}`}`));
      out.push(el('div', { class: 'scroll' }, el('table', { id: 'gradients' },
        el('tr', {}, ...['candidate parameter', 'reference', 'max abs diff', 'cosine', 'mapping', ''].map((h) => el('th', {}, h))),
        ...b.gradients.map((g) => el('tr', { class: g.pass ? '' : 'diverges' },
          el('td', {}, g.candidate), el('td', {}, g.reference.join(', ')), el('td', { class: 'num' }, fmt(g.maxAbsDiff)), el('td', { class: 'num' }, fmt(g.cosine)),
          el('td', {}, g.mapping ? el('a', { onclick: () => openLine(g.mapping.line), title: g.mapping.text }, `line ${g.mapping.line}`) : ''),
          el('td', { class: g.pass ? 'pass' : 'fail', title: g.reason || '' }, g.pass ? 'pass' : 'fail'))))));
    }
  }

  /** A module row's "Save tensors": the shown check again, writing this module's pair in full (.npy); the host says where. */
  function saveButton(l) {
    const form = state.form;
    const b = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'secondary save-tensors', 'data-module': l.reference,
      title: form ? `Run this check again, writing the outputs of ${l.reference} and ${l.candidate} in full as .npy files` : 'Run the check again first' }, 'Save tensors'));
    b.disabled = !form || form.mode !== 'eager';
    b.addEventListener('click', () => {
      if (!state.form) return;
      b.disabled = true;
      b.textContent = 'Saving…';
      post({ type: 'saveTensors', module: l.reference, form: state.form });
    });
    return b;
  }

  function markdown(r) {
    const lines = [`**Parity ${r.pass ? 'PASS' : 'FAIL'}** — ${r.dtype} on ${r.device}`, '', '| output | shape | max abs | max rel | cosine | pass |', '|---|---|---|---|---|---|'];
    for (const o of r.outputs) lines.push(`| ${o.name} | [${o.shape.join(', ')}] | ${fmt(o.maxAbsDiff)} | ${fmt(o.maxRelDiff)} | ${fmt(o.cosine)} | ${o.pass ? '✓' : '✗'} |`);
    if (r.firstDivergence) lines.push('', `First divergence: \`${r.firstDivergence.reference}\` ↔ \`${r.firstDivergence.candidate}\` (max abs ${fmt(r.firstDivergence.maxAbsDiff)})`);
    for (const m of (r.firstDivergence && r.firstDivergence.mappingLines) || []) lines.push(`- mapping line ${m.line}: \`${m.text}\``);
    return lines.join('\n');
  }

  post({ type: 'ready' });
})();
