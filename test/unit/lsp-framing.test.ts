/**
 * The language server over stdio (dist/server.js --stdio; `node esbuild.mjs` first) survives framing
 * errors: a header line without a colon, a Content-Length that is not a number, a header with none —
 * each followed by valid requests, which are all answered. vscode-jsonrpc's own reader stops being in
 * step after the first such message (lsp/framing.ts says why).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { scratchDir } from '../support/tmp';

const SERVER = path.join(__dirname, '..', '..', 'dist', 'server.js');
const tmp = scratchDir('lsp-framing');

const frame = (msg: unknown) => {
  const body = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

test('malformed headers are skipped and the requests after them are answered', async () => {
  const server = spawn(process.execPath, [SERVER, '--stdio'], { cwd: tmp.dir });
  let out = '';
  let err = '';
  server.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  server.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const answered = (id: number) => new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (out.includes(`"id":${id},`)) { clearInterval(poll); resolve(); }
      else if (Date.now() - t0 > 20_000 || server.exitCode !== null) { clearInterval(poll); reject(new Error(`request ${id} not answered; stdout: ${out.slice(-500)}; stderr: ${err}`)); }
    }, 20);
  });
  try {
    const junk = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'shutdown' });
    // A header line without a colon (its body must not be taken for the next header).
    server.stdin.write(`Content-Length ${junk.length}\r\n\r\n${junk}`);
    server.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null } }));
    await answered(1);
    server.stdin.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
    // A Content-Length that is not a number.
    server.stdin.write(`Content-Length: lots\r\n\r\n${junk}`);
    const uri = `file://${path.join(tmp.dir, 'a.tpmap')}`;
    server.stdin.write(frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'tpmap', version: 1, text: 'a.weight -> b.weight\n' } } }));
    server.stdin.write(frame({ jsonrpc: '2.0', id: 2, method: 'textDocument/documentSymbol', params: { textDocument: { uri } } }));
    await answered(2);
    // A header without Content-Length, split across writes.
    server.stdin.write('X-Other: 1\r\n');
    server.stdin.write(`\r\n${junk}`);
    server.stdin.write(frame({ jsonrpc: '2.0', id: 3, method: 'textDocument/documentSymbol', params: { textDocument: { uri } } }));
    await answered(3);
    assert.ok(!out.includes('"id":99'), 'the bodies of malformed messages were not run');
    assert.match(err, /a header line without a colon/);
    assert.match(err, /a Content-Length that is not a byte count/);
    assert.match(err, /a header without Content-Length/);
  } finally {
    server.kill();
  }
});
