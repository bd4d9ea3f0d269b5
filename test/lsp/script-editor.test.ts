/**
 * A real conversion script in the real server over stdio: transformers' own ViT timm → HF script (a
 * scratch copy with its `# tensorport:` comment, as the corpus test makes it) opened in the editor. Its
 * diagnostics arrive; hover on a key string — dotted, dot-less, an f-string under a prefix variable —
 * shows the tensor on the side the comment names, as the real checkpoint header has it; and a planted
 * typo gets "replace with the suggestion", whose edit, applied, leaves the script as it was and clean.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { LspClient, PushedDiagnostic } from '../support/lspClient';
import { CASES, CORPUS_CKPT, corpusMissing, withDirective } from '../support/scriptCorpus';
import { scratchDir } from '../support/tmp';

const skip = corpusMissing() ?? false;
const ws = scratchDir('lspscript');
const vit = CASES.find((c) => c.script.includes('vit_timm'))!;
let client: LspClient;

before(async () => {
  if (skip) return;
  ({ client } = await LspClient.start(ws.dir));
});

after(() => client?.stop());

interface Hover { contents: { value: string }; range: PushedDiagnostic['range'] }
interface Edit { range: PushedDiagnostic['range']; newText: string }
interface Action { title: string; kind: string; isPreferred?: boolean; diagnostics: PushedDiagnostic[]; edit: { changes: Record<string, Edit[]> } }

/** The LSP edits applied to the text, last first so earlier ranges stay valid. */
function apply(text: string, edits: Edit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))
    .reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}

test('a real conversion script in the editor: diagnostics, hover on every kind of key string, and the typo\'s quick fix clears it', { skip }, async () => {
  const good = withDirective(vit);
  const planted = '(f"blocks.{i}.mlp.fc2.bais"';
  const text = good.replace('(f"blocks.{i}.mlp.fc2.bias"', planted);
  assert.notEqual(text, good);
  const file = ws.file(path.basename(vit.script), text);
  const uri = pathToFileURL(file).toString();
  const lines = text.split('\n');
  await client.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });

  // (a) The diagnostics arrive: the planted typo, on its string, with the right key offered.
  const ds = await client.until(uri, (d) => d.length > 0);
  assert.deepEqual(ds.map((d) => d.code), ['unknown-source-key']);
  const typo = ds[0];
  assert.equal(lines[typo.range.start.line].slice(typo.range.start.character, typo.range.end.character), 'f"blocks.{i}.mlp.fc2.bais"');
  assert.match(typo.message, /closest: `blocks\.\{i\}\.mlp\.fc2\.bias`/);

  // (b) Hover: each key string shows the tensor of the side the comment names, as its header has it.
  const timm = await readCheckpoint(path.join(CORPUS_CKPT, vit.source), { displayName: vit.source });
  const hf = await readCheckpoint(path.join(CORPUS_CKPT, vit.target), { displayName: vit.target });
  const tensor = (info: typeof timm, key: string) => {
    const t = info.tensors.find((x) => x.key === key);
    assert.ok(t, `${key} is in ${info.file}`);
    return `${t.dtype} | \`[${t.shape.join(', ')}]\``;
  };
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hover = async (needle: string): Promise<Hover> => {
    const line = lines.findIndex((l) => l.includes(needle));
    assert.ok(line >= 0, `${needle} is in the script`);
    const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character: lines[line].indexOf(needle) + 3 } });
    assert.ok(h, `a hover on ${needle}`);
    const r = h.range;
    assert.equal(lines[r.start.line].slice(r.start.character, r.end.character), needle, 'the hover covers the whole string');
    return h;
  };
  const sourceRow = (h: Hover, label: string, key: string) => assert.match(h.contents.value, new RegExp(`\\| source \`${esc(path.join(CORPUS_CKPT, vit.source))}\` \\| \`${esc(label)}\` \\| ${esc(tensor(timm, key))} \\|`));
  const dotted = await hover('f"blocks.{i}.norm1.weight"');
  sourceRow(dotted, 'blocks.{0–1}.norm1.weight', 'blocks.0.norm1.weight');
  assert.doesNotMatch(dotted.contents.value, /\| target /, 'a source key is not the target\'s');
  const bare = await hover('"cls_token"');
  sourceRow(bare, 'cls_token', 'cls_token');
  sourceRow(await hover('"pos_embed"'), 'pos_embed', 'pos_embed');
  const target = await hover('"vit.embeddings.cls_token"');
  assert.match(target.contents.value, new RegExp(`\\| target \`${esc(path.join(CORPUS_CKPT, vit.target))}\` \\| \`vit\\.embeddings\\.cls_token\` \\| ${esc(tensor(hf, 'vit.embeddings.cls_token'))} \\|`));
  // `f"{prefix}encoder…"`: `prefix` is `""` or `"vit."`; the target has the second.
  const prefixed = await hover('f"{prefix}encoder.layer.{i}.attention.attention.query.weight"');
  assert.match(prefixed.contents.value, /^\*\*`vit\.encoder\.layer\.\{i\}\.attention\.attention\.query\.weight`\*\*/);
  assert.match(prefixed.contents.value, new RegExp(`\`vit\\.encoder\\.layer\\.\\{0–1\\}\\.attention\\.attention\\.query\\.weight\` \\| ${esc(tensor(hf, 'vit.encoder.layer.0.attention.attention.query.weight'))} \\| \`\\[out, in\\]\` \\|`));
  assert.equal(await client.request('textDocument/hover', { textDocument: { uri }, position: { line: lines.findIndex((l) => l.includes('"--vit_name"')), character: lines.find((l) => l.includes('"--vit_name"'))!.indexOf('"--vit_name"') + 3 } }), null, 'no hover on a string that is no key');

  // (c) The quick fix: one action, replacing only the mistyped segment inside the f-string.
  const actions = await client.request<Action[]>('textDocument/codeAction', { textDocument: { uri }, range: typo.range, context: { diagnostics: [typo], only: ['quickfix'] } });
  assert.equal(actions.length, 1, JSON.stringify(actions.map((a) => a.title)));
  const [fix] = actions;
  assert.equal(fix.title, 'Replace with `blocks.{i}.mlp.fc2.bias`');
  assert.equal(fix.kind, 'quickfix');
  assert.equal(fix.isPreferred, true);
  assert.deepEqual(fix.diagnostics.map((d) => d.code), ['unknown-source-key']);
  const edits = fix.edit.changes[uri];
  assert.equal(edits.length, 1);
  assert.equal(edits[0].newText, 'bias');
  assert.equal(lines[edits[0].range.start.line].slice(edits[0].range.start.character, edits[0].range.end.character), 'bais', 'only the key text that differs');
  const fixed = apply(text, edits);
  assert.equal(fixed, good, 'the fix restores the script as transformers wrote it');
  const after = await client.replaceAll(uri, fixed);
  assert.deepEqual(after.map((d) => `${d.code}: ${d.message}`), [], 're-checked, the script is clean');
  // Nothing left to fix, nothing offered.
  assert.deepEqual(await client.request<Action[]>('textDocument/codeAction', { textDocument: { uri }, range: typo.range, context: { diagnostics: [] } }), []);
});
