/**
 * The language server as any editor's client meets it (Neovim's built-in client, Helix, Emacs eglot):
 * initialize with only the base capabilities — no work-done progress, no dynamic registration, no
 * VS Code extras — offering UTF-8 and UTF-16 positions, and unknown server requests answered with an
 * error as a plain JSON-RPC peer does. Diagnostics, hover and completion all arrive, positions in the
 * encoding the server announced.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The Neovim block of docs/editors.md, run as written in a headless Neovim (0.7 on Debian 12, 0.10+ elsewhere). */
const nvim = ['nvim', '/usr/bin/nvim', '/usr/local/bin/nvim'].find((c) => spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0);
test('docs/editors.md: its Neovim config brings the diagnostics of a mapping', { skip: !nvim && 'no nvim on this machine (apt install neovim to run it)', timeout: 60_000 }, () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'editors.md'), 'utf8');
  const lua = /## Neovim[^\n]*\n[\s\S]*?```lua\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(lua, 'docs/editors.md has a ```lua block under its Neovim heading');
  const dir = scratchDir('nvim').dir;
  // `tensorport-lsp` as `npm install -g` puts it on PATH: the built server.
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'tensorport-lsp'), `#!/bin/sh\nexec "${process.execPath}" "${SERVER}" "$@"\n`, { mode: 0o755 });
  for (const f of ['hf_bert_tiny.safetensors', 'paddlenlp_bert_tiny.pdparams', 'bad.tpmap']) copyFileSync(path.join(EXAMPLES, 'bert-to-paddlenlp', f), path.join(dir, f));
  const out = path.join(dir, 'diagnostics.txt');
  // Polls for the diagnostics, writes their codes, quits; gives up after 30 s (the file stays empty).
  writeFileSync(path.join(dir, 'init.lua'), `${lua}
local tries = 0
local function poll()
  tries = tries + 1
  local ds = vim.diagnostic.get(vim.fn.bufnr('bad.tpmap'))
  if #ds > 0 or tries > 300 then
    local lines = { 'nvim ' .. tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) }
    for _, d in ipairs(ds) do
      table.insert(lines, tostring(d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or '?') .. ' ' .. tostring(d.lnum))
    end
    vim.fn.writefile(lines, ${JSON.stringify(out)})
    vim.cmd('qall!')
  else
    vim.defer_fn(poll, 100)
  end
end
vim.defer_fn(poll, 100)
`);
  const r = spawnSync(nvim!, ['--headless', '-u', path.join(dir, 'init.lua'), 'bad.tpmap'], { cwd: dir, encoding: 'utf8', timeout: 50_000, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, XDG_STATE_HOME: dir, XDG_DATA_HOME: dir } });
  assert.ok(existsSync(out), `nvim wrote nothing (status ${r.status}): ${r.stderr}${r.stdout}`);
  const [version, ...codes] = readFileSync(out, 'utf8').trim().split('\n');
  assert.match(version, /^nvim \d+\.\d+$/);
  assert.ok(codes.some((c) => c.startsWith('missing-transpose ')), `${version}: ${codes.join(', ')}`);
});
