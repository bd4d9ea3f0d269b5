/**
 * The mapping editor through the VS Code API in a real VS Code: diagnostics, completion, hover, the
 * parity command and the quick fix on the worked BERT → PaddleNLP example with a planted missing
 * transpose (line 12). The browser e2e runs the parity check itself and reads its result.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

async function until<T>(f: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function mappingSuite(): void {
  suite('Tensor Port mapping editor', () => {
    let doc: vscode.TextDocument;
    suiteSetup(async () => {
      const [uri] = await vscode.workspace.findFiles('port.tpmap');
      doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
    });

    test('the missing transpose is diagnosed on line 12', async () => {
      const d = await until(() => vscode.languages.getDiagnostics(doc.uri).find((x) => x.code === 'missing-transpose'), 'missing-transpose');
      assert.equal(d.range.start.line, 11);
      assert.match(d.message, /square shape \[16, 16\] hides it/);
    });

    test('completion on the right of -> ranks the fitting target first', async () => {
      const line = doc.lineAt(11).text;
      const pos = new vscode.Position(11, line.indexOf('->') + 3);
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, pos);
      const sorted = [...list.items].sort((a, b) => (a.sortText ?? '').localeCompare(b.sortText ?? ''));
      assert.equal(typeof sorted[0].label === 'string' ? sorted[0].label : sorted[0].label.label, 'bert.encoder.layers.{i}.self_attn.q_proj.weight');
    });

    test('hover on a key shows its shape', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(13, 10));
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.match(text, /F32 `?\[16, 16\]/);
    });

    test('Run Parity Check opens the runner panel for the mapping', async () => {
      await vscode.commands.executeCommand('tensorport.runParity', doc.uri);
      const tab = await until(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Parity Check'), 'the parity panel');
      assert.ok(tab.input instanceof vscode.TabInputWebview);
    });

    test('the quick fix adds the transpose and the diagnostic goes away', async () => {
      const d = vscode.languages.getDiagnostics(doc.uri).find((x) => x.code === 'missing-transpose')!;
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range);
      const fix = actions.find((a) => a.title === 'Add `| transpose`');
      assert.ok(fix?.edit);
      await vscode.workspace.applyEdit(fix!.edit!);
      assert.ok(doc.lineAt(11).text.endsWith('| transpose'));
      await until(() => !vscode.languages.getDiagnostics(doc.uri).some((x) => x.code === 'missing-transpose') || undefined, 'the diagnostic to clear');
    });
  });
}
