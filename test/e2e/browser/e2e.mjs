// The browser steps of the editor e2e (run by run.sh): real VS Code (code-server) in Debian's Chromium,
// driven by keyboard and selectors the way a user works — never by sleeps.
import { chromium } from 'playwright-core';
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const URL = process.env.CS_URL;
const OUT = process.env.OUT;
const WS = process.env.WS;
const ROOT = process.env.ROOT ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const t0 = Date.now();
const log = (m) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
const steps = [];

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorport-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on('pageerror', (e) => console.log('pageerror:', e.message));

async function step(name, fn) {
  const t = Date.now();
  await fn();
  steps.push(`${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  log(`ok: ${name}`);
}

async function quickOpen(file) {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 5000 });
      await page.keyboard.type(file, { delay: 20 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor({ timeout: 5000 });
      await page.keyboard.press('Enter');
      await page.locator('.tabs-container .tab', { hasText: file }).first().waitFor({ timeout: 5000 });
      return;
    } catch (e) {
      if (attempt >= 4) throw e;
      log(`quick open attempt ${attempt} failed, retrying`);
    }
  }
}

/** Runs a command from the palette, as a user does: type its title, wait for the row, Enter. */
async function runCommand(title, row) {
  await page.keyboard.press('Control+Shift+P');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 5000 });
  await page.keyboard.type(title, { delay: 10 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

async function goToLine(line, column = 1) {
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 5000 });
  await page.keyboard.type(`${line}:${column}`, { delay: 20 });
  await page.keyboard.press('Enter');
}

let ok = false;
try {
  await step('workbench ready', async () => {
    await page.goto(URL);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'port.tpmap' }).first().waitFor({ timeout: 90_000 });
  });

  await step('the status bar counts the indexed checkpoints', async () => {
    await quickOpen('port.tpmap'); // activates the extension
    await page.locator('.statusbar-item', { hasText: '14 checkpoints' }).first().waitFor({ timeout: 60_000 });
  });

  await step('the six language-model tools are registered for chat agents (vscode.lm.tools)', async () => {
    await page.keyboard.press('Escape');
    await runCommand('Tensor Port: List Language Model Tools', 'List Language Model Tools');
    const expected = '6 language-model tools registered: tensorport_check, tensorport_convert, tensorport_diff, tensorport_keys, tensorport_map, tensorport_parity';
    await page.locator('.notifications-toasts', { hasText: expected }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(OUT, 'lm-tools.png') });
    await page.keyboard.press('Escape');
  });

  await step('the planted missing transpose is in the Problems panel', async () => {
    await quickOpen('port.tpmap');
    await page.locator('.monaco-editor .view-lines', { hasText: 'bert.encoder.layer.{i}.attention.self.query.weight' }).first().waitFor({ timeout: 30_000 });
    if (!(await page.locator('.markers-panel').isVisible())) await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel', { hasText: 'the square shape [16, 16] hides it' }).first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(OUT, 'problems.png') });
  });

  await step('the quick fix adds `| transpose` and the problem goes away', async () => {
    await page.locator('.monaco-editor .view-lines').first().click();
    await goToLine(12, 10);
    await page.keyboard.press('Control+.');
    const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Add `| transpose`' }).first();
    await fix.waitFor({ timeout: 15_000 });
    await fullyShown(fix);
    await page.screenshot({ path: path.join(OUT, 'quickfix.png') });
    // Choose it by keyboard, as a user does: the menu's pointer shield swallows synthetic clicks.
    for (let i = 0; i < 10; i++) {
      const focused = await page.locator('.action-widget .monaco-list-row.focused').first().innerText().catch(() => '');
      if (focused.includes('Add `| transpose`')) break;
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');
    await page.locator('.markers-panel', { hasText: 'hides it' }).first().waitFor({ state: 'detached', timeout: 30_000 });
    await page.keyboard.press('Control+S');
    await waitFor(() => fs.readFileSync(path.join(WS, 'port.tpmap'), 'utf8').split('\n')[11].endsWith('| transpose'), 'the saved line 12 ends with | transpose');
  });

  await step('hover on a key shows its dtype and shape', async () => {
    await goToLine(14, 10);
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    const hover = page.locator('.monaco-hover', { hasText: 'matches 2 keys' }).first();
    await hover.waitFor({ timeout: 15_000 });
    const text = await hover.innerText();
    if (!/F32 \[16, 16\]/.test(text)) throw new Error(`hover lacks the shape: ${text}`);
    await fullyShown(hover);
    await page.screenshot({ path: path.join(OUT, 'hover.png') });
  });
  await step('a .safetensors opens in the checkpoint viewer, filterable', async () => {
    await page.keyboard.press('Escape');
    await quickOpen('hf_bert_tiny.safetensors');
    const view = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await view.locator('header .summary', { hasText: '40 tensors' }).waitFor({ timeout: 30_000 });
    const summary = await view.locator('header .summary').innerText();
    if (!/safetensors · torch layout · 40 tensors/.test(summary)) throw new Error(`unexpected summary: ${summary}`);
    await view.locator('.row.module', { hasText: 'bert' }).first().waitFor({ timeout: 10_000 });
    await view.locator('.toolbar input').fill('attention.self.query');
    await view.locator('.toolbar .count', { hasText: '4 matching tensors' }).waitFor({ timeout: 10_000 });
    await view.locator('.row', { hasText: 'bert.encoder.layer.1.attention.self.query.weight' }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(OUT, 'viewer.png') });
  });
  await step('the parity panel runs the check and names the first diverging layer', async () => {
    await page.keyboard.press('Escape');
    if (await page.locator('.markers-panel').isVisible()) await page.keyboard.press('Control+J'); // room for the panel
    await page.keyboard.press('Control+K');
    await page.keyboard.press('W');
    await quickOpen('parity.tpmap');
    await runCommand('Tensor Port: Run Parity Check', 'Run Parity Check');
    const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    const reference = panel.locator('#f-reference');
    await reference.waitFor({ timeout: 30_000 });
    if ((await reference.inputValue()) !== 'ref.onnx') throw new Error('the form is not prefilled from the settings');
    if ((await panel.locator('#f-mapping').inputValue()) !== 'parity.tpmap') throw new Error('the mapping is not prefilled');
    await panel.locator('button[type=submit]').click();
    await panel.locator('.verdict', { hasText: 'FAIL' }).first().waitFor({ timeout: 120_000 });
    await panel.locator('.verdict', { hasText: 'First divergence: /blocks.1/attn/o/MatMul_output_0' }).waitFor({ timeout: 10_000 });
    await panel.locator('a', { hasText: 'encoder.layer.1.attention.output.weight -> blocks.1.attn.o.weight' }).waitFor({ timeout: 10_000 });
    await panel.locator('#chart canvas').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(OUT, 'parity.png') });
    await panel.locator('#results').screenshot({ path: path.join(OUT, 'parity-results.png') });
  });
  await step('a training folder: the malicious pickle is an error, the LFS pointer information, the Trainer files quiet; steps newest first in the view', async () => {
    await page.keyboard.press('Escape');
    if (!(await page.locator('.markers-panel').isVisible())) await page.keyboard.press('Control+Shift+M');
    const markers = page.locator('.markers-panel');
    await markers.locator('.monaco-list-row', { hasText: 'evil.pt' }).first().waitFor({ timeout: 30_000 });
    await markers.locator('.monaco-list-row', { hasText: 'Git LFS pointer to a 440 MB object' }).first().waitFor({ timeout: 30_000 });
    const rows = (await markers.locator('.monaco-list-row').allInnerTexts()).join('\n');
    if (!/pickle names .*os/.test(rows)) throw new Error(`the malicious pickle's error is not listed:\n${rows}`);
    for (const quiet of ['optimizer.pt', 'scheduler.pt', 'rng_state.pth']) if (rows.includes(quiet)) throw new Error(`${quiet} has a problem listed:\n${rows}`);
    // The Trainer settings and the pointer are information, never an error or a warning: the two errors
    // are evil.pt's and parity.tpmap's planted fault, and there is no warning.
    const badge = await page.locator('.statusbar-item[id="status.problems"]').first().innerText();
    const [errors, warnings] = badge.match(/\d+/g) ?? [];
    if (errors !== '2' || warnings !== '0') throw new Error(`expected 2 errors and 0 warnings in the status bar, got ${JSON.stringify(badge)}`);
    await page.screenshot({ path: path.join(OUT, 'training-problems.png') });
    await page.keyboard.press('Control+J'); // the panel away, and the Explorer's other sections collapsed: room for the view
    const sidebar = page.locator('.sidebar');
    for (const h of await sidebar.locator('.pane-header[aria-expanded="true"]').all()) {
      if (!(await h.innerText()).includes('TENSOR PORT')) await h.click();
    }
    const view = sidebar.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Tensor Port' }) }).first();
    const header = view.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    await view.locator('.monaco-list-row', { hasText: 'checkpoint-2' }).first().waitFor({ timeout: 30_000 });
    const labels = await view.locator('.monaco-list-row').allInnerTexts();
    const at = (s) => labels.findIndex((l) => l.includes(s));
    if (!(at('checkpoint-4') >= 0 && at('checkpoint-4') < at('checkpoint-2'))) throw new Error(`checkpoint-4 is not above checkpoint-2:\n${labels.join('\n')}`);
    if (!labels.some((l) => /optimizer\.pt.*optimizer state/s.test(l))) throw new Error(`the open newest step does not list optimizer.pt as an optimizer state:\n${labels.join('\n')}`);
    await view.screenshot({ path: path.join(OUT, 'training-view.png') });
  });
  await step('the language server runs with the memory settings the extension starts it with', async () => {
    const [pid] = findServers();
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    for (const flag of ['--max-semi-space-size=4', '--expose-gc']) if (!args.includes(flag)) throw new Error(`the server was started without ${flag}: ${args.join(' ')}`);
    if (!env.includes('MALLOC_MMAP_THRESHOLD_=131072')) throw new Error('the server was started without MALLOC_MMAP_THRESHOLD_=131072');
  });
  await step('a language server killed mid-session is restarted, the user is told, and it indexes again', async () => {
    await page.keyboard.press('Escape');
    const killed = killServer();
    if (killed.length !== 1) throw new Error(`expected one Tensor Port server process, found ${killed.length}`);
    await page.locator('.notifications-toasts', { hasText: 'the language server stopped unexpectedly and was restarted (1 of 4' }).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(OUT, 'restarted.png') });
    await page.locator('.statusbar-item', { hasText: '14 checkpoints' }).first().waitFor({ timeout: 60_000 });
    await waitFor(() => findServers().some((pid) => !killed.includes(pid)), 'a new server process', 30_000);
  });
  await step('Convert with Mapping: the target\'s format offered first, progress, the .pdparams opened in the viewer', async () => {
    await page.keyboard.press('Escape');
    await quickOpen('port.tpmap');
    await runCommand('Tensor Port: Convert with Mapping', 'Convert with Mapping');
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await first.waitFor({ timeout: 10_000 });
    const text = await first.innerText();
    if (!/Paddle \(\.pdparams\)[\s\S]*the target's format/.test(text)) throw new Error(`the first format offered is not the target's: ${text}`);
    await page.keyboard.press('Enter');
    // code-server's save dialog is a quick input prefilled with the proposed path (port.pdparams beside the mapping).
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    // The simple file dialog fills its path in as it reads the folder: wait for the file name.
    const end = Date.now() + 15_000;
    let proposed = await input.inputValue();
    while (!proposed.endsWith('port.pdparams') && Date.now() < end) {
      await page.waitForTimeout(100);
      proposed = await input.inputValue();
    }
    if (!proposed.endsWith('port.pdparams')) throw new Error(`the proposed output is ${proposed}`);
    await page.keyboard.press('Enter');
    const toast = page.locator('.notifications-toasts', { hasText: 'wrote port.pdparams: 39 tensors' }).first();
    await toast.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(OUT, 'converted.png') });
    if (!fs.existsSync(path.join(WS, 'port.pdparams'))) throw new Error('port.pdparams was not written');
    await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Open in Viewer' }).first().click();
    // The parity panel is still open beside it: the viewer is the webview whose summary counts the tensors.
    let summary = '';
    for (const end = Date.now() + 30_000; !summary && Date.now() < end; await page.waitForTimeout(200)) {
      for (let i = 0; i < await page.locator('iframe.webview.ready').count(); i++) {
        const s = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame').locator('header .summary', { hasText: '39 tensors' });
        if (await s.count()) { summary = await s.first().innerText(); break; }
      }
    }
    if (!/paddle-pickle · paddle layout · 39 tensors/.test(summary)) throw new Error(`unexpected viewer summary: ${JSON.stringify(summary)}`);
    await page.screenshot({ path: path.join(OUT, 'converted-viewer.png') });
  });
  await step('the walkthrough opens, its first step creates the example port, and the Problems panel shows the planted mistake', async () => {
    await page.keyboard.press('Escape');
    await runCommand('Welcome: Open Walkthrough', 'Open Walkthrough');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get Started with Tensor Port' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.type('Tensor Port', { delay: 10 });
    await page.keyboard.press('Enter');
    const walkthrough = page.locator('.gettingStartedContainer');
    await walkthrough.locator('text=Open the example port').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(OUT, 'walkthrough.png') });
    await walkthrough.locator('a, .monaco-button', { hasText: 'Create the Example' }).first().click();
    // The folder dialog (code-server's simple dialog) proposes the workspace folder: accept it. On a
    // slow machine the dialog may still be listing the folder when Enter comes, and Enter then moves
    // into a row instead of accepting: so the workspace path is typed in full, and Enter repeated while
    // the dialog stays open.
    const input = page.locator('.quick-input-widget input');
    const example = path.join(WS, 'tensorport-example', 'port.tpmap');
    let last = '';
    for (const end = Date.now() + 40_000; !fs.existsSync(example); await page.waitForTimeout(500)) {
      if (Date.now() > end) {
        await page.screenshot({ path: path.join(OUT, 'example-dialog.png') });
        throw new Error(`timed out: the example written into the workspace (the folder dialog last showed ${JSON.stringify(last)})`);
      }
      if (!(await input.isVisible())) continue;
      last = await input.inputValue();
      if (last.replace(/\/$/, '') !== WS.replace(/\/$/, '')) {
        await input.fill(WS.replace(/\/$/, '') + '/');
        await page.waitForTimeout(300);
      }
      await page.keyboard.press('Enter');
      await page.waitForTimeout(1000);
    }
    const markers = page.locator('.markers-panel');
    await markers.locator('.monaco-list-row', { hasText: 'tensorport-example' }).first().waitFor({ timeout: 60_000 });
    await markers.locator('.monaco-list-row', { hasText: 'the square shape [8, 8] hides it' }).first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(OUT, 'example-created.png') });
  });
  await step('the parity panel in eager mode runs the PyTorch models: the correct port passes, a planted missing transpose is found at blocks.0.attn.q with its mapping lines; its tensors saved on request; two ranks under torchrun', async () => {
    // The fixtures arrive now, not with the workspace: the planted fault is a mapping error, and the
    // steps before count the Problems.
    const E = path.join(WS, 'eager-port');
    for (const f of ['eager', 'vit_tiny', 'torch_vit_plinear.py']) fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'ports', f), path.join(E, f), { recursive: true });
    const map = fs.readFileSync(path.join(E, 'eager', 'vit_torch.tpmap'), 'utf8');
    const fault = map.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1');
    if (fault === map) throw new Error('the missing transpose was not planted');
    fs.writeFileSync(path.join(E, 'eager', 'no_transpose.tpmap'), fault);
    await page.keyboard.press('Escape');
    await quickOpen('no_transpose.tpmap');
    await runCommand('Tensor Port: Run Parity Check', 'Run Parity Check');
    const panel = await parityPanel();
    // The panel re-renders for the mapping it was opened on: wait for that before touching the form.
    await panel.locator('h1', { hasText: 'no_transpose.tpmap' }).waitFor({ timeout: 30_000 });
    await panel.locator('#f-mode').selectOption('eager');
    await panel.locator('#f-eagerReference').waitFor({ state: 'visible', timeout: 5000 });
    if (await panel.locator('#f-reference').isVisible()) throw new Error('the ONNX reference field is still shown in eager mode');
    // The picker lists the workspace's Python definitions (the server's scan).
    await panel.locator('#pick-eagerReference').click();
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 5000 });
    await page.keyboard.type('reference', { delay: 20 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'hf_style_vit.py' }).filter({ hasText: 'reference' }).first().click({ timeout: 30_000 });
    const picked = 'eager-port/eager/hf_style_vit.py::reference';
    for (const end = Date.now() + 10_000; (await panel.locator('#f-eagerReference').inputValue()) !== picked; await page.waitForTimeout(100)) {
      if (Date.now() > end) throw new Error(`the picked reference is not in the form: ${JSON.stringify(await panel.locator('#f-eagerReference').inputValue())}`);
    }
    await panel.locator('#f-eagerCandidate').fill('eager-port/eager/torch_port.py::candidate');
    await panel.locator('#f-inputs').fill(''); // the settings' ONNX inputs: the ViT's come from example_inputs()
    await panel.locator('#f-mapping').fill('eager-port/eager/vit_torch.tpmap');
    await panel.locator('button[type=submit]').click();
    await panel.locator('.verdict', { hasText: 'PASS' }).first().waitFor({ timeout: 120_000 });
    await panel.locator('.notes', { hasText: 'Every paired module agrees' }).waitFor({ timeout: 10_000 });
    await panel.locator('#f-mapping').fill('eager-port/eager/no_transpose.tpmap');
    await panel.locator('#f-backward').check();
    await panel.locator('button[type=submit]').click();
    await panel.locator('.verdict', { hasText: 'First divergence: blocks.0.attn.q' }).waitFor({ timeout: 120_000 });
    const first = await panel.locator('#modules tr.first').innerText();
    if (!first.includes('encoder.layer.0.attention.attention.query') || !first.includes('blocks.0.attn.q')) throw new Error(`the highlighted row is ${JSON.stringify(first)}`);
    await panel.locator('a.source', { hasText: 'PLinear (torch_vit_plinear.py:12)' }).waitFor({ timeout: 10_000 });
    await panel.locator('#gradients td', { hasText: 'blocks.0.attn.q.weight' }).first().waitFor({ timeout: 10_000 });
    await panel.locator('#chart canvas').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(OUT, 'parity-eager.png') });
    await panel.locator('#results').screenshot({ path: path.join(OUT, 'parity-eager-results.png') });
    // Save tensors on the first diverging row: the same check again, the pair written in full, a notification naming the folder.
    await panel.locator('#modules tr.first button.save-tensors').click();
    const saved = page.locator('.notifications-toasts', { hasText: "saved encoder.layer.0.attention.attention.query's outputs" }).first();
    await saved.waitFor({ timeout: 120_000 });
    if (!(await saved.innerText()).includes('tensorport-parity-tensors')) throw new Error(`the notification does not name the folder: ${await saved.innerText()}`);
    for (const side of ['reference', 'candidate']) {
      const f = path.join(WS, 'tensorport-parity-tensors', `encoder.layer.0.attention.attention.query.${side}.npy`);
      if (!fs.existsSync(f) || !fs.readFileSync(f).subarray(0, 6).equals(Buffer.from('\x93NUMPY', 'latin1'))) throw new Error(`${f} is not a .npy file`);
    }
    await saved.locator('a.monaco-button, .monaco-button', { hasText: 'Reveal in Explorer' }).first().click();
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'encoder.layer.0.attention.attention.query.reference.npy' }).first().waitFor({ timeout: 10_000 });
    // The launcher field: two ranks under torchrun (the interpreter's own, first on PATH), a table of ranks.
    await panel.locator('#f-backward').uncheck();
    await panel.locator('#f-launcher').fill('torchrun --standalone --nproc-per-node 2');
    await panel.locator('button[type=submit]').click();
    // Cells' texts run together in a row's text content: match rank 1's own cell.
    await panel.locator('#ranks td:first-child', { hasText: /^1$/ }).waitFor({ timeout: 120_000 });
    await panel.locator('#results').screenshot({ path: path.join(OUT, 'parity-eager-ranks.png') });
    // The mapping line link opens the mapping the run used at that line.
    await panel.locator('a.mapping-line', { hasText: 'encoder.layer.{i}.attention.attention.query.weight -> blocks.{i}.attn.q.weight' }).click();
    await page.locator('.tabs-container .tab.active', { hasText: 'no_transpose.tpmap' }).waitFor({ timeout: 10_000 });
    await page.locator('.statusbar-item', { hasText: /Ln 9, Col 1/ }).first().waitFor({ timeout: 10_000 });
  });
  ok = true;
} catch (e) {
  console.error('E2E FAILED:', e.message);
  try { await page.screenshot({ path: path.join(OUT, 'failure.png') }); } catch { /* best effort */ }
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`\n${steps.length} e2e steps passed${ok ? '' : ', then one failed'}:\n  ${steps.join('\n  ')}`);
process.exit(ok ? 0 : 1);

/** The parity panel's frame: the webview with the parity form (other webviews may be open). */
async function parityPanel() {
  for (const end = Date.now() + 30_000; Date.now() < end; await page.waitForTimeout(200)) {
    for (let i = 0; i < await page.locator('iframe.webview.ready').count(); i++) {
      const frame = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if (await frame.locator('#f-mode').count()) return frame;
    }
  }
  throw new Error('no parity panel');
}

/** Waits until a widget has finished fading in (every ancestor fully opaque), for clean screenshots. */
async function fullyShown(locator) {
  const handle = await locator.elementHandle();
  await page.waitForFunction((el) => {
    for (let e = el; e; e = e.parentElement) if (getComputedStyle(e).opacity !== '1') return false;
    return true;
  }, handle, { timeout: 10_000 });
}

/** The extension's language server processes (found through /proc: no procps needed). */
function findServers() {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmd.includes('tensorport') && cmd.includes('dist/server.js');
    } catch {
      return false;
    }
  }).map(Number);
}

/** SIGKILL, as a crash would: no shutdown request, no exit notification. */
function killServer() {
  const pids = findServers();
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids;
}

async function waitFor(pred, what, ms = 10_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
