/**
 * The language server as any editor's client meets it (Neovim's built-in client, Helix, Emacs eglot):
 * initialize with only the base capabilities — no work-done progress, no dynamic registration, no
 * VS Code extras — offering UTF-8 and UTF-16 positions, and unknown server requests answered with an
 * error as a plain JSON-RPC peer does. Diagnostics, hover and completion all arrive, positions in the
 * encoding the server announced.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { SERVER } from '../support/lspClient';
import { EXAMPLES, scratchDir } from '../support/tmp';

const ws = scratchDir('generic');
for (const f of ['hf_bert_tiny.safetensors', 'paddlenlp_bert_tiny.pdparams', 'bad.tpmap']) copyFileSync(path.join(EXAMPLES, 'bert-to-paddlenlp', f), path.join(ws.dir, f));
const proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
const published = new Map<string, { code: string; range: { start: { line: number; character: number } } }[]>();
conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: { code: string; range: { start: { line: number; character: number } } }[] }) => { published.set(p.uri, p.diagnostics); });
conn.listen();
after(async () => { await conn.sendRequest('shutdown').catch(() => undefined); await conn.sendNotification('exit').catch(() => undefined); conn.dispose(); proc.kill(); });

test('a client with the base capabilities only: initialize, diagnostics, hover and completion', async () => {
  const init = await conn.sendRequest<{ capabilities: { positionEncoding?: string; hoverProvider?: boolean; completionProvider?: object } }>('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ws.dir).toString(), capabilities: { general: { positionEncodings: ['utf-8', 'utf-16'] } },
  });
  // The server speaks UTF-16 (the protocol's default, which every client supports) and says so.
  assert.equal(init.capabilities.positionEncoding ?? 'utf-16', 'utf-16');
  assert.equal(init.capabilities.hoverProvider, true);
  assert.ok(init.capabilities.completionProvider);
  await conn.sendNotification('initialized', {});
  const file = path.join(ws.dir, 'bad.tpmap');
  const uri = pathToFileURL(file).toString();
  const text = (await import('node:fs')).readFileSync(file, 'utf8');
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'tpmap', version: 1, text } });
  for (let i = 0; i < 200 && !published.get(uri)?.length; i++) await new Promise((r) => setTimeout(r, 50));
  const diags = published.get(uri) ?? [];
  assert.ok(diags.some((d) => d.code === 'missing-transpose'), JSON.stringify(diags.map((d) => d.code)));
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.startsWith('bert.encoder.layer.{i}.attention.self.query.weight'));
  const hover = await conn.sendRequest<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line, character: 6 } });
  assert.match(hover?.contents.value ?? '', /query\.weight/);
  const completion = await conn.sendRequest<{ items: { label: string }[] } | { label: string }[]>('textDocument/completion', { textDocument: { uri }, position: { line: lines.length - 1, character: 0 } });
  const items = Array.isArray(completion) ? completion : completion.items;
  assert.ok(items.length > 0);
});
