/**
 * What VS Code shows from package.json without running code reads well: every setting described,
 * every command titled "Tensor Port: …", and the walkthrough's steps complete on commands that exist,
 * with buttons that run them and media files that ship (media/ is in the VSIX).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('every setting has a one-line description and every command a "Tensor Port: " title', () => {
  for (const [key, s] of Object.entries(pkg.contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>)) {
    const d = s.description ?? s.markdownDescription ?? '';
    assert.ok(d.length > 20 && !d.includes('\n'), key);
  }
  for (const c of pkg.contributes.commands as { command: string; title: string }[]) assert.match(c.title, /^Tensor Port: \S/, c.command);
});

test('eager parity\'s interpreter setting: tensorport.python, a string defaulting to python3, restricted in untrusted workspaces like command mode', () => {
  const s = pkg.contributes.configuration.properties['tensorport.python'] as { type: string; default: string; scope: string; markdownDescription: string };
  assert.deepEqual([s.type, s.default, s.scope], ['string', '', 'resource']);
  assert.match(s.markdownDescription, /Python extension.*comes first.*`python3`/);
  const untrusted = pkg.capabilities.untrustedWorkspaces as { supported: string; description: string; restrictedConfigurations: string[] };
  assert.equal(untrusted.supported, 'limited');
  assert.deepEqual([...untrusted.restrictedConfigurations].sort(), ['tensorport.parity.command', 'tensorport.python']);
  assert.match(untrusted.description, /eager mode/);
  // The Python extension's API wrapper is bundled into the client, not a run-time dependency on the extension.
  assert.ok(pkg.dependencies['@vscode/python-extension']);
  assert.equal(pkg.extensionDependencies, undefined);
});

test('the walkthrough: five or more steps, each with a button to a command that exists, completion by that command, and shipped media', () => {
  const [w] = pkg.contributes.walkthroughs as { id: string; title: string; steps: { id: string; description: string; media: { markdown?: string; image?: string }; completionEvents: string[] }[] }[];
  assert.equal(w.title, 'Get Started with Tensor Port');
  assert.ok(w.steps.length >= 5);
  const ours = new Set((pkg.contributes.commands as { command: string }[]).map((c) => c.command));
  for (const s of w.steps) {
    const button = /\(command:([\w.]+)\)/.exec(s.description)?.[1];
    assert.ok(button, s.id);
    assert.ok(ours.has(button) || button.startsWith('editor.action.'), `${s.id}: ${button}`);
    assert.deepEqual(s.completionEvents, [`onCommand:${button}`], s.id);
    assert.ok(existsSync(path.join(ROOT, s.media.markdown ?? s.media.image ?? '')), s.id);
  }
  for (const f of ['port.tpmap', 'vit_hf.safetensors', 'vit_paddle.pdparams']) assert.ok(existsSync(path.join(ROOT, 'media', 'example', f)), f);
});

test('the example port has exactly the one planted mistake the guide describes: line 13 forgets `| transpose`', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tensorport.js'), 'check', 'port.tpmap', '--json'], { cwd: path.join(ROOT, 'media', 'example'), encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  const diags = JSON.parse(r.stdout).diagnostics as { line: number; code: string; severity: string }[];
  assert.deepEqual(diags.map((d) => [d.line, d.code, d.severity]), [[13, 'missing-transpose', 'error']]);
});

test('the language-model tools: one per agent tool, each declaring exactly the input schema the MCP server lists and the same description', async () => {
  const { TOOLS } = await import('../../server/src/tools/definitions');
  const { jsonSchema } = await import('../../server/src/cli/mcp/mcpServer');
  const { TOOL_NAMES } = await import('../../server/src/lsp/protocol');
  const declared = pkg.contributes.languageModelTools as { name: string; toolReferenceName: string; displayName: string; userDescription: string; modelDescription: string; inputSchema: unknown }[];
  assert.deepEqual(declared.map((t) => t.name), TOOLS.map((t) => `tensorport_${t.name}`));
  assert.deepEqual([...TOOL_NAMES].sort(), TOOLS.map((t) => t.name).sort(), 'the protocol names the same tools');
  for (const def of TOOLS) {
    const t = declared.find((d) => d.name === `tensorport_${def.name}`)!;
    assert.deepEqual(t.inputSchema, jsonSchema(def.input, 'input'), `${t.name}: package.json's inputSchema is the tool's (regenerate it from server/src/tools/schemas.ts)`);
    assert.equal(t.modelDescription, def.description, t.name);
    assert.match(t.displayName, /^Tensor Port: \S/, t.name);
    assert.match(t.toolReferenceName, /^tensorport[A-Z]\w+$/, t.name);
    assert.ok(t.userDescription.length > 20 && !t.userDescription.includes('\n'), t.name);
    // The editor activates us for a tool call even when no mapping is open.
    assert.ok((pkg.activationEvents as string[]).includes(`onLanguageModelTool:${t.name}`), t.name);
  }
  assert.ok(Number(/\^1\.(\d+)/.exec(pkg.engines.vscode)?.[1]) >= 95, 'vscode.lm.registerTool is API from VS Code 1.95');
});
