/**
 * A mapping file in the real language server over stdio, as an editor sees it: diagnostics on open
 * and after edits, completion on both sides of `->` and after `|`, hover, quick fixes, go to
 * definition, outline and formatting — against the worked BERT → PaddleNLP example's real checkpoints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LspClient, PushedDiagnostic } from '../support/lspClient';
import { EXAMPLES, FIXTURES, scratchDir } from '../support/tmp';

const ws = scratchDir('lspmap');
const example = path.join(EXAMPLES, 'bert-to-paddlenlp');
let client: LspClient;
let uri: string;
let text: string;

before(async () => {
  for (const f of ['hf_bert_tiny.safetensors', 'paddlenlp_bert_tiny.pdparams']) copyFileSync(path.join(example, f), path.join(ws.dir, f));
  ({ client } = await LspClient.start(ws.dir));
  text = readFileSync(path.join(example, 'bad.tpmap'), 'utf8');
  uri = await client.open(path.join(ws.dir, 'bad.tpmap'), text);
});

after(() => client.stop());

const at = (d: PushedDiagnostic[], line: number, code: string) => d.find((x) => x.range.start.line === line - 1 && x.code === code);
const pos = (line: number, character: number) => ({ line: line - 1, character });

test('diagnostics on open: the planted mistakes, each on its line, with related information', async () => {
  const d = await client.until(uri, (x) => x.length > 0);
  assert.ok(at(d, 7, 'unknown-target-key'));
  assert.match(at(d, 7, 'unknown-target-key')!.message, /closest: `bert\.embeddings\.token_type_embeddings\.weight`/);
  const mt = at(d, 11, 'missing-transpose')!;
  assert.match(mt.message, /square shape \[16, 16\] hides it/);
  assert.equal(mt.severity, 1);
  assert.match(mt.relatedInformation![0].message, /target `bert\.encoder\.layers\.0\.self_attn\.q_proj\.weight`: F32 \[16, 16\]/);
  assert.ok(mt.relatedInformation![0].location.uri.endsWith('paddlenlp_bert_tiny.pdparams'));
  assert.ok(at(d, 19, 'suspicious-pairing'));
  assert.ok(at(d, 20, 'shape-mismatch'));
  assert.ok(at(d, 20, 'duplicate-target'));
  assert.ok(at(d, 24, 'suspicious-pairing'));
  // The diagnostic spans the rule at fault: from the source key to the end of the line.
  assert.deepEqual(mt.range, { start: pos(11, 0), end: pos(11, text.split('\n')[10].trimEnd().length) });
});

test('the quick fix adds the missing transpose, and the diagnostic goes away', async () => {
  const d = client.diagnostics.get(uri)!;
  const mt = at(d, 11, 'missing-transpose')!;
  const actions = await client.request<{ title: string; isPreferred?: boolean; edit: { changes: Record<string, { range: PushedDiagnostic['range']; newText: string }[]> } }[]>(
    'textDocument/codeAction', { textDocument: { uri }, range: mt.range, context: { diagnostics: [mt] } });
  const fix = actions.find((a) => a.title === 'Add `| transpose`');
  assert.ok(fix?.isPreferred, JSON.stringify(actions.map((a) => a.title)));
  const [edit] = fix!.edit.changes[uri];
  await client.edit(uri, edit.range, edit.newText);
  const after = await client.until(uri, (x) => !at(x, 11, 'missing-transpose'));
  assert.ok(at(after, 20, 'shape-mismatch'), 'other lines keep their diagnostics');
});

test('the unknown key quick fix offers the closest real key', async () => {
  const d = client.diagnostics.get(uri)!;
  const unk = at(d, 7, 'unknown-target-key')!;
  const actions = await client.request<{ title: string }[]>('textDocument/codeAction', { textDocument: { uri }, range: unk.range, context: { diagnostics: [unk] } });
  assert.equal(actions[0].title, 'Replace with `bert.embeddings.token_type_embeddings.weight`');
});

test('a half-typed line is a parse error on that line only; the rest stays checked', async () => {
  const lines = readFileSync(path.join(example, 'bad.tpmap'), 'utf8').split('\n');
  lines.splice(26, 0, 'bert.encoder.layer.');
  await client.replaceAll(uri, lines.join('\n'));
  const d = await client.until(uri, (x) => x.some((y) => y.code === 'parse-error'));
  const pe = d.filter((x) => x.code === 'parse-error');
  assert.equal(pe.length, 1);
  assert.equal(pe[0].range.start.line, 26);
  assert.ok(at(d, 20, 'shape-mismatch'));
  assert.ok(at(d, 11, 'missing-transpose'));
});

interface Item { label: string; detail?: string; sortText?: string; textEdit?: { newText: string } }
const complete = async (line: number, character: number) => {
  const r = await client.request<{ items: Item[] }>('textDocument/completion', { textDocument: { uri }, position: pos(line, character) });
  return [...r.items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label));
};

test('completion on the left offers source keys folded over layers, with dtype and shape', async () => {
  const items = await complete(27, 'bert.encoder.layer.'.length);
  const q = items.find((i) => i.label === 'bert.encoder.layer.{i}.attention.self.query.weight');
  assert.ok(q, items.slice(0, 5).map((i) => i.label).join(', '));
  assert.equal(q!.detail, 'F32 [16, 16] × 2');
  assert.ok(!items.some((i) => i.label.startsWith('bert.encoder.layer.0.')), 'concrete layer keys wait until a number is typed');
});

test('completion on the right ranks the target key that fits the left side first', async () => {
  const lines = readFileSync(path.join(example, 'bad.tpmap'), 'utf8').split('\n');
  const line = 'bert.encoder.layer.{i}.intermediate.dense.weight -> ';
  lines.splice(26, 0, line);
  await client.replaceAll(uri, lines.join('\n'));
  const items = await complete(27, line.length);
  assert.equal(items[0].label, 'bert.encoder.layers.{i}.linear1.weight');
  assert.match(items[0].detail!, /F32 \[16, 32\]/);
});

test('completion after `|` lists the transforms, and inside cast( the dtypes', async () => {
  const lines = readFileSync(path.join(example, 'bad.tpmap'), 'utf8').split('\n');
  lines.splice(26, 0, 'bert.pooler.dense.bias -> bert.pooler.dense.bias | ', 'bert.pooler.dense.bias -> bert.pooler.dense.bias | cast(');
  await client.replaceAll(uri, lines.join('\n'));
  const transforms = (await complete(27, lines[26].length)).map((i) => i.label);
  assert.deepEqual(transforms.sort(), ['cast', 'cat', 'chunk', 'permute', 'reshape', 'squeeze', 'transpose', 'unsqueeze']);
  const dtypes = (await complete(28, lines[27].length)).map((i) => i.label);
  assert.ok(dtypes.includes('F16') && dtypes.includes('BF16'));
});

test('hover on a pattern shows what it matches and the shape through the transforms', async () => {
  await client.replaceAll(uri, text);
  await client.until(uri, (x) => x.length > 0 && !x.some((y) => y.code === 'parse-error'));
  const h = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: pos(13, 5) });
  assert.match(h.contents.value, /matches 2 keys/);
  assert.match(h.contents.value, /F32 \[16, 16\] → transpose → F32 \[16, 16\] — target `bert\.encoder\.layers\.0\.self_attn\.k_proj\.weight` F32 \[16, 16\] ✓/);
  const t = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: pos(13, text.split('\n')[12].indexOf('transpose') + 2) });
  assert.match(t.contents.value, /Swaps the two dimensions/);
});

test('go to definition on a target key opens the target checkpoint', async () => {
  const line = text.split('\n')[5];
  const loc = await client.request<{ uri: string }>('textDocument/definition', { textDocument: { uri }, position: pos(6, line.indexOf('->') + 5) });
  assert.equal(loc.uri, pathToFileURL(path.join(ws.dir, 'paddlenlp_bert_tiny.pdparams')).toString());
});

test('the outline groups rules by block; formatting aligns the arrows', async () => {
  const syms = await client.request<{ name: string; children: unknown[] }[]>('textDocument/documentSymbol', { textDocument: { uri } });
  assert.deepEqual(syms.slice(0, 2).map((s) => s.name), ['source hf_bert_tiny.safetensors', 'target paddlenlp_bert_tiny.pdparams']);
  const layer = syms.find((s) => s.name === 'bert.encoder.layer.{i}');
  assert.equal(layer?.children.length, 14);
  await client.replaceAll(uri, 'source hf_bert_tiny.safetensors\ntarget paddlenlp_bert_tiny.pdparams\na.b ->   c   |transpose\nlonger.key.name -> d # note\n');
  const edits = await client.request<{ range: PushedDiagnostic['range']; newText: string }[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  assert.deepEqual(edits.map((e) => e.newText), ['a.b             -> c | transpose', 'longer.key.name -> d  # note']);
});

test('a quick fix adds rules for unmapped target keys whose source is clear', async () => {
  const good = readFileSync(path.join(example, 'good.tpmap'), 'utf8');
  const d = await client.replaceAll(uri, good.replace(/^bert\.pooler.*\n/gm, ''));
  const unmapped = d.find((y) => y.code === 'unmapped-target-key' && y.message.includes('`bert.pooler.dense.weight`'))!;
  const actions = await client.request<{ title: string; edit: { changes: Record<string, { newText: string }[]> } }[]>(
    'textDocument/codeAction', { textDocument: { uri }, range: unmapped.range, context: { diagnostics: [unmapped] } });
  const add = actions.find((a) => a.title.startsWith('Add 2 rules'));
  assert.ok(add, actions.map((a) => a.title).join(' | '));
  assert.equal(add!.edit.changes[uri][0].newText, 'bert.pooler.dense.weight -> bert.pooler.dense.weight | transpose\nbert.pooler.dense.bias -> bert.pooler.dense.bias\n');
});

test('folding ranges cover each block of rules and runs of comments', async () => {
  await client.replaceAll(uri, text);
  const ranges = await client.request<{ startLine: number; endLine: number; kind?: string }[]>('textDocument/foldingRange', { textDocument: { uri } });
  assert.ok(ranges.some((r) => r.startLine === 10 && r.endLine === 23), JSON.stringify(ranges));
  assert.ok(ranges.some((r) => r.startLine === 4 && r.endLine === 8), "the embeddings block");
});

test('the CLI and the server report the same diagnostics for the same file', async () => {
  const file = path.join(ws.dir, 'same.tpmap');
  writeFileSync(file, text);
  const sameUri = await client.open(file, text);
  const fromServer = await client.until(sameUri, (x) => x.length > 0);
  const cli = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'tensorport.js'), 'check', file, '--json'], { encoding: 'utf8' });
  const fromCli: { line: number; column: number; endLine: number; endColumn: number; code: string; severity: string; message: string }[] = JSON.parse(cli.stdout).diagnostics;
  const SEV = ['', 'error', 'warning', 'information'];
  const norm = (xs: string[]) => [...xs].sort();
  assert.deepEqual(
    norm(fromServer.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1} ${SEV[d.severity]} ${d.code} ${d.message}`)),
    norm(fromCli.map((d) => `${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.severity} ${d.code} ${d.message}`)));
});

test('Generate Mapping writes a .tpmap that checks clean, and never overwrites unless asked', async () => {
  const out = path.join(ws.dir, 'generated.tpmap');
  const params = { source: path.join(ws.dir, 'hf_bert_tiny.safetensors'), target: path.join(ws.dir, 'paddlenlp_bert_tiny.pdparams'), output: out };
  const r = await client.request<{ ok: boolean; rules: number; unmappedTarget: number }>('tensorport/generateMapping', params);
  assert.equal(r.ok, true);
  assert.equal(r.rules, 39); // every tensor of the PaddleNLP checkpoint
  assert.equal(r.unmappedTarget, 0);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^source hf_bert_tiny\.safetensors$/m);
  assert.match(text, /bert\.encoder\.layer\.\{i\}\.attention\.self\.query\.weight +-> bert\.encoder\.layers\.\{i\}\.self_attn\.q_proj\.weight \| transpose/);
  const check = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'tensorport.js'), 'check', out, '--json'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout);
  assert.deepEqual(JSON.parse(check.stdout).summary, { files: 1, errors: 0, warnings: 0, information: 0 });
  const again = await client.request<{ ok: boolean; message: string }>('tensorport/generateMapping', params);
  assert.equal(again.ok, false);
  assert.match(again.message, /already exists/);
});

test('fifty mapping files open at once are all analysed', async () => {
  const good = readFileSync(path.join(example, 'good.tpmap'), 'utf8');
  const uris = await Promise.all(Array.from({ length: 50 }, (_, i) => client.open(path.join(ws.dir, `many${i}.tpmap`), good)));
  for (const u of uris) {
    const d = await client.until(u, (x) => x !== undefined);
    assert.deepEqual(d.filter((x) => x.severity <= 2).map((x) => x.code), [], u);
  }
});

test('a convolution whose shape hides the layout: missing-transpose in the editor, and the permute quick fix clears it', async () => {
  const conv = path.join(FIXTURES, 'conv');
  const body = `source ${path.join(conv, 'torch.safetensors')}\ntarget ${path.join(conv, 'mlx.safetensors')}\nstem.weight -> stem.weight\nstem.bias -> stem.bias\n`;
  const u = await client.open(path.join(ws.dir, 'conv.tpmap'), body);
  const d = await client.until(u, (x) => x.some((y) => y.code === 'missing-transpose'));
  const mt = at(d, 3, 'missing-transpose')!;
  assert.match(mt.message, /torch stores this convolution as \[out, in, kh, kw\], mlx as \[out, kh, kw, in\]: add `\| permute\(0, 2, 3, 1\)` \(the shape \[8, 3, 3, 3\] is the same in both layouts and hides it\)/);
  const actions = await client.request<{ title: string; isPreferred?: boolean; edit: { changes: Record<string, { range: PushedDiagnostic['range']; newText: string }[]> } }[]>(
    'textDocument/codeAction', { textDocument: { uri: u }, range: mt.range, context: { diagnostics: [mt] } });
  const fix = actions.find((a) => a.title === 'Add `| permute(0, 2, 3, 1)`');
  assert.ok(fix?.isPreferred, JSON.stringify(actions.map((a) => a.title)));
  const [edit] = fix!.edit.changes[u];
  await client.edit(u, edit.range, edit.newText);
  await client.until(u, (x) => !x.some((y) => y.code === 'missing-transpose'));
});

test('Fix All (source.fixAll.tensorport) applies every convention fix at once, as check --fix does', async () => {
  const conv = path.join(FIXTURES, 'conv');
  const body = `source ${path.join(conv, 'torch.safetensors')}\ntarget ${path.join(conv, 'mlx.safetensors')}\nstem.weight -> stem.weight\nconv.weight -> conv.weight\ntemporal.weight -> temporal.weight\nstem.bias -> stem.bias\n`;
  const u = await client.open(path.join(ws.dir, 'fixall.tpmap'), body);
  await client.until(u, (x) => x.filter((y) => y.code === 'missing-transpose').length === 3);
  const none = await client.request<unknown[]>('textDocument/codeAction', { textDocument: { uri: u }, range: { start: pos(1, 0), end: pos(1, 0) }, context: { diagnostics: [], only: ['source.organizeImports'] } });
  assert.deepEqual(none, []);
  const [all] = await client.request<{ title: string; kind: string; edit: { changes: Record<string, { range: PushedDiagnostic['range']; newText: string }[]> } }[]>(
    'textDocument/codeAction', { textDocument: { uri: u }, range: { start: pos(1, 0), end: pos(1, 0) }, context: { diagnostics: [], only: ['source.fixAll'] } });
  assert.equal(all.kind, 'source.fixAll.tensorport');
  // One edit: the span from the first change to the last, after every pass check --fix would make.
  const edits = all.edit.changes[u];
  assert.equal(edits.length, 1);
  const [e] = edits;
  const lines = body.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const fixed = body.slice(0, offset(e.range.start)) + e.newText + body.slice(offset(e.range.end));
  assert.equal((fixed.match(/ \| permute\(0, 2, 3, 1\)/g) ?? []).length, 2);
  assert.equal((fixed.match(/ \| permute\(0, 2, 1\)/g) ?? []).length, 1);
  // The same text `tensorport check --fix` writes for the same file.
  const copy = path.join(ws.dir, 'fixall-cli.tpmap');
  writeFileSync(copy, body);
  spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'tensorport.js'), 'check', '--fix', copy], { encoding: 'utf8' });
  assert.equal(readFileSync(copy, 'utf8'), fixed);
  await client.edit(u, e.range, e.newText);
  await client.until(u, (x) => !x.some((y) => y.code === 'missing-transpose'));
});
