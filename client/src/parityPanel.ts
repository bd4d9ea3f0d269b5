/**
 * The parity runner panel (parity.md): a webview to confirm reference, candidate, mapping and inputs,
 * a progress bar while the server runs the check in a worker, then the outputs table and the error by
 * layer with the first divergence marked. Results are kept per mapping file and shown again when the
 * panel reopens. Eager mode (the user's own PyTorch / Paddle models, run in their Python) and command
 * mode (the user's own script) run user code: both are refused in untrusted workspaces. Eager mode's
 * "Save tensors" on a module's row runs the shown check again through the server, writing that module's
 * pair in full as .npy, and says where in a notification.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import {
  CHECKPOINT_GLOBS, PARITY_LOG_NOTIFICATION, PARITY_PROGRESS_NOTIFICATION, PARITY_REQUEST, PYTHON_MODELS_REQUEST,
  ParityLogParams, ParityParams, ParityProgressParams, ParityReport, ParityResult, PythonModelsResult,
} from '../../server/src/lsp/protocol';
import { pythonInterpreter } from './pythonInterpreter';
import { announceSavedTensors } from './savedTensors';
import { FromParity, ParityForm, ParityMessage, PickedField } from './webviewMessages';
import { mediaRoots, webviewHtml } from './webviewHtml';

/** The form the webview sends: strings as typed; empty means "default". */
const STATE_KEY = 'tensorport.parity.last';

export class ParityPanel {
  private static current: ParityPanel | undefined;
  private running: vscode.CancellationTokenSource | undefined;
  private mapping: vscode.Uri | undefined;

  static show(context: vscode.ExtensionContext, client: LanguageClient | undefined, output: vscode.OutputChannel, mapping?: vscode.Uri): void {
    if (ParityPanel.current) {
      ParityPanel.current.mapping = mapping ?? ParityPanel.current.mapping;
      ParityPanel.current.panel.reveal();
      void ParityPanel.current.sendInit();
      return;
    }
    const panel = vscode.window.createWebviewPanel('tensorport.parity', 'Parity Check', vscode.ViewColumn.Beside,
      { enableScripts: true, localResourceRoots: mediaRoots(context.extensionUri), retainContextWhenHidden: true });
    ParityPanel.current = new ParityPanel(context, client, output, panel, mapping);
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: LanguageClient | undefined,
    private readonly output: vscode.OutputChannel,
    private readonly panel: vscode.WebviewPanel,
    mapping: vscode.Uri | undefined,
  ) {
    this.mapping = mapping;
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'tpmap-icon.svg');
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { title: 'Parity Check', script: 'parity.js', style: 'parity.css', extraStyles: ['vendor/uPlot.min.css'], extraScripts: ['vendor/uPlot.iife.min.js'] });
    panel.webview.onDidReceiveMessage((m: FromParity) => void this.onMessage(m));
    panel.onDidDispose(() => {
      this.running?.cancel();
      ParityPanel.current = undefined;
    });
  }

  private async onMessage(m: FromParity): Promise<void> {
    switch (m.type) {
      case 'ready': return this.sendInit();
      case 'run': return this.run(m.form);
      case 'cancel': this.running?.cancel(); return;
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        void vscode.window.setStatusBarMessage('Tensor Port: parity report copied', 3000);
        return;
      case 'openMapping': {
        const file = m.file ? this.resolve(m.file) : this.mapping;
        if (file) await this.open(file, m.line);
        return;
      }
      case 'openSource': return this.open(this.resolve(m.file), m.line);
      case 'pick': return this.pick(m.field);
      case 'saveTensors': return this.saveTensors(m.module, m.form);
    }
  }

  private folder(): vscode.WorkspaceFolder | undefined {
    return (this.mapping && vscode.workspace.getWorkspaceFolder(this.mapping)) || vscode.workspace.workspaceFolders?.[0];
  }

  private resolve(p: string): vscode.Uri {
    const folder = this.folder();
    return path.isAbsolute(p) || !folder ? vscode.Uri.file(p) : vscode.Uri.joinPath(folder.uri, p);
  }

  private async open(file: vscode.Uri, line: number | undefined): Promise<void> {
    const at = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
    await vscode.window.showTextDocument(file, { selection: new vscode.Range(at, at), viewColumn: vscode.ViewColumn.One });
  }

  /** Eager mode's pickers: a model (`FILE.py::NAME`, from the server's list of top-level definitions) or a mapping. */
  private async pick(field: PickedField): Promise<void> {
    let value: string | undefined;
    if (field === 'mapping') {
      const files = await vscode.workspace.findFiles('**/*.tpmap', '**/node_modules/**', 500);
      const item = await vscode.window.showQuickPick(files.map((f) => ({ label: vscode.workspace.asRelativePath(f, false) })).sort((a, b) => a.label.localeCompare(b.label)),
        { title: 'Mapping (.tpmap): the reference loads its source, the candidate the rules\' targets', placeHolder: 'Pick a mapping' });
      value = item?.label;
    } else if (field === 'referenceWeights' || field === 'candidateWeights') {
      const files = (await Promise.all(CHECKPOINT_GLOBS.map((g) => vscode.workspace.findFiles(g, '**/node_modules/**', 500)))).flat();
      const item = await vscode.window.showQuickPick([...new Set(files.map((f) => vscode.workspace.asRelativePath(f, false)))].sort().map((label) => ({ label })), {
        title: field === 'referenceWeights' ? 'Reference weights: a checkpoint the reference loads instead of the mapping\'s source' : 'Candidate weights: a checkpoint the candidate loads as it is (a converted file) instead of the mapping\'s targets',
        placeHolder: 'Pick a checkpoint',
      });
      value = item?.label;
    } else {
      if (!this.client) return;
      const items = this.client.sendRequest<PythonModelsResult>(PYTHON_MODELS_REQUEST, {}).then((r) => r.models.map((m) => ({
        label: `${m.kind === 'class' ? '$(symbol-class)' : '$(symbol-method)'} ${m.name}`, description: m.relative, value: `${m.relative}::${m.name}`,
      })));
      const item = await vscode.window.showQuickPick(items, {
        title: `${field === 'eagerReference' ? 'Reference' : 'Candidate'} model: a class built with no arguments, or a function returning a model`,
        placeHolder: 'FILE.py::NAME', matchOnDescription: true,
      });
      value = item?.value;
    }
    if (value !== undefined) await this.panel.webview.postMessage({ type: 'picked', field, value } satisfies ParityMessage);
  }

  /** Prefills the form from the settings and the mapping, and restores this mapping's last result. */
  private async sendInit(): Promise<void> {
    const cfg = vscode.workspace.getConfiguration('tensorport.parity', this.mapping);
    const model = (s: string) => (/\.py::[A-Za-z_]\w*$/.test(s) ? s : '');
    const last = this.context.workspaceState.get<Record<string, { form?: ParityForm; report?: ParityReport }>>(STATE_KEY, {})[this.mapping?.toString() ?? ''];
    await this.panel.webview.postMessage({
      type: 'init',
      trusted: vscode.workspace.isTrusted,
      mapping: this.mapping ? vscode.workspace.asRelativePath(this.mapping) : '',
      defaults: {
        reference: cfg.get<string>('reference', ''), candidate: cfg.get<string>('candidate', ''),
        device: cfg.get<string>('device', 'auto'), dtype: cfg.get<string>('dtype', 'fp32'),
        atol: cfg.get<number | null>('atol', null)?.toString() ?? '', rtol: cfg.get<number | null>('rtol', null)?.toString() ?? '',
        inputs: cfg.get<string[]>('inputs', []).join(' '), command: cfg.get<string>('command', ''), layers: cfg.get<boolean>('layers', true),
        eagerReference: model(cfg.get<string>('reference', '')), eagerCandidate: model(cfg.get<string>('candidate', '')), backward: false,
        launcher: '', referenceWeights: '', candidateWeights: '',
      },
      last,
    } satisfies ParityMessage);
  }

  /** The server's request for a form, or why the form cannot run (one line, shown in the panel). */
  private async params(form: ParityForm, id: string, saveTensors?: string[]): Promise<ParityParams | string> {
    if (form.mode !== 'onnx' && !vscode.workspace.isTrusted) {
      const what = form.mode === 'eager' ? 'Eager mode runs your own model code' : 'Command mode runs your own script';
      return `${what}: trust this workspace first (Workspaces: Manage Workspace Trust).`;
    }
    const folder = this.folder();
    const abs = (p: string | undefined) => (!p?.trim() ? undefined : path.isAbsolute(p.trim()) || !folder ? p.trim() : vscode.Uri.joinPath(folder.uri, p.trim()).fsPath);
    const num = (s: string) => (s.trim() === '' ? undefined : Number(s));
    if (form.mode === 'onnx') {
      return { id, kind: 'onnx', inputSpecs: form.inputs.split(/\s+/).filter(Boolean), request: {
        reference: abs(form.reference) ?? '', candidate: abs(form.candidate) ?? '', weights: abs(form.mapping),
        seed: num(form.seed), atol: num(form.atol), rtol: num(form.rtol),
        dtype: form.dtype as 'fp32', device: form.device as 'auto', layers: form.layers,
      } };
    }
    if (form.mode === 'command') {
      return { id, kind: 'command', request: { command: form.command, cwd: abs(form.cwd) ?? folder?.uri.fsPath, atol: num(form.atol), rtol: num(form.rtol), dtype: form.dtype as 'fp32', trusted: vscode.workspace.isTrusted } };
    }
    const launcher = form.launcher?.trim() || undefined;
    if (launcher && /[\r\n]/.test(launcher)) return 'Launcher: one command line, e.g. torchrun --nproc-per-node 2';
    const weights: Record<'referenceWeights' | 'candidateWeights', string | undefined> = { referenceWeights: abs(form.referenceWeights), candidateWeights: abs(form.candidateWeights) };
    for (const [k, file] of Object.entries(weights)) {
      if (!file) continue;
      const stat = await vscode.workspace.fs.stat(vscode.Uri.file(file)).then((st) => st, () => undefined);
      const label = k === 'referenceWeights' ? 'Reference weights' : 'Candidate weights';
      if (!stat) return `${label}: no such file ${file}`;
      if (stat.type & vscode.FileType.Directory) return `${label}: ${file} is a folder; pick a checkpoint file`;
    }
    const python = await pythonInterpreter(this.mapping ?? folder?.uri);
    this.output.appendLine(`parity (eager): Python ${python.path} (from ${python.from === 'default' ? 'the default: no Python extension, tensorport.python not set' : python.from === 'python extension' ? 'the Python extension\'s selected interpreter' : 'the tensorport.python setting'})${launcher ? `, under \`${launcher}\` (the interpreter's folder first on PATH)` : ''}`);
    return { id, kind: 'eager', inputSpecs: form.inputs.split(/\s+/).filter(Boolean), request: {
      reference: form.eagerReference.trim(), candidate: form.eagerCandidate.trim(), weights: abs(form.mapping), cwd: folder?.uri.fsPath,
      seed: num(form.seed), atol: num(form.atol), rtol: num(form.rtol), dtype: form.dtype as 'fp32', device: form.device as 'auto',
      backward: form.backward, python: python.path, trusted: vscode.workspace.isTrusted, launcher, ...weights, ...(saveTensors ? { saveTensors } : {}),
    } };
  }

  private async run(form: ParityForm): Promise<void> {
    if (!this.client) return;
    const id = randomUUID();
    const params = await this.params(form, id);
    if (typeof params === 'string') {
      await this.panel.webview.postMessage({ type: 'error', message: params } satisfies ParityMessage);
      return;
    }
    this.running?.cancel();
    const cts = (this.running = new vscode.CancellationTokenSource());
    await this.panel.webview.postMessage({ type: 'started' } satisfies ParityMessage);
    try {
      const r = await this.request(this.client, params, cts.token, (p) => void this.panel.webview.postMessage({ type: 'progress', ...p } satisfies ParityMessage));
      if (!r.ok) {
        await this.panel.webview.postMessage({ type: 'error', message: r.message } satisfies ParityMessage);
        return;
      }
      const all = this.context.workspaceState.get<Record<string, unknown>>(STATE_KEY, {});
      all[this.mapping?.toString() ?? ''] = { form, report: r.report };
      await this.context.workspaceState.update(STATE_KEY, all);
      await this.panel.webview.postMessage({ type: 'result', report: r.report } satisfies ParityMessage);
    } catch (e) {
      await this.panel.webview.postMessage({ type: 'error', message: cts.token.isCancellationRequested ? 'cancelled' : String(e) } satisfies ParityMessage);
    } finally {
      if (this.running === cts) this.running = undefined;
      cts.dispose();
    }
  }
  /**
   * Sends one parity request: its progress to `onProgress`, its log to the Output channel; a failure or a
   * cancellation comes back as a result (`cancelled` for the latter).
   */
  private async request(client: LanguageClient, params: ParityParams, token: vscode.CancellationToken, onProgress: (p: ParityProgressParams) => void): Promise<ParityResult> {
    const subs = [
      client.onNotification(PARITY_PROGRESS_NOTIFICATION, (p: ParityProgressParams) => { if (p.id === params.id) onProgress(p); }),
      client.onNotification(PARITY_LOG_NOTIFICATION, (p: ParityLogParams) => { if (p.id === params.id) this.output.append(p.text); }),
    ];
    try {
      return await client.sendRequest<ParityResult>(PARITY_REQUEST, params, token);
    } catch (e) {
      return { ok: false, message: token.isCancellationRequested ? 'cancelled' : String(e) };
    } finally {
      subs.forEach((s) => s.dispose());
    }
  }

  /** "Save tensors" on a module's row: the shown check again, writing that module's pair in full; a notification says where. */
  private async saveTensors(module: string, form: ParityForm): Promise<void> {
    const client = this.client;
    try {
      if (!client || form.mode !== 'eager') return;
      const id = randomUUID();
      const params = await this.params(form, id, [module]);
      if (typeof params === 'string') {
        void vscode.window.showErrorMessage(`Tensor Port: ${params}`);
        return;
      }
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tensor Port: saving the tensors of ${module}`, cancellable: true },
        (progress, token) => this.request(client, params, token, (p) => progress.report({ message: p.message })));
      await announceSavedTensors(module, r);
    } finally {
      await this.panel.webview.postMessage({ type: 'saved', module } satisfies ParityMessage);
    }
  }
}
