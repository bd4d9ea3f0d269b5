/**
 * The tpmap TextMate grammar (syntaxes/tpmap.tmLanguage.json), tokenised by the real engine VS Code uses
 * (vscode-textmate on vscode-oniguruma), and the language configuration (language-configuration.json):
 * real lines get the scopes default themes colour, no line's state leaks into the next, and the word
 * pattern takes a whole dotted key as one word.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { EXAMPLES } from '../support/tmp';

const ROOT = path.join(__dirname, '..', '..');
const GRAMMAR = path.join(ROOT, 'syntaxes', 'tpmap.tmLanguage.json');
const LANGUAGE_CONFIGURATION = path.join(ROOT, 'language-configuration.json');

let grammarPromise: Promise<vsctm.IGrammar> | undefined;

function loadGrammar(): Promise<vsctm.IGrammar> {
  grammarPromise ??= (async () => {
    const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === 'source.tpmap' ? vsctm.parseRawGrammar(readFileSync(GRAMMAR, 'utf8'), GRAMMAR) : null,
    });
    const grammar = await registry.loadGrammar('source.tpmap');
    assert.ok(grammar, 'the grammar loads');
    return grammar;
  })();
  return grammarPromise;
}

interface Tok { text: string; start: number; end: number; scopes: string[] }

async function tokenize(line: string, stack: vsctm.StateStack = vsctm.INITIAL): Promise<{ tokens: Tok[]; stack: vsctm.StateStack }> {
  const r = (await loadGrammar()).tokenizeLine(line, stack);
  return {
    tokens: r.tokens.map((t) => ({ text: line.slice(t.startIndex, Math.min(t.endIndex, line.length)), start: t.startIndex, end: t.endIndex, scopes: t.scopes })),
    stack: r.ruleStack,
  };
}

/** `scope` itself or a more specific scope under it (`keyword.operator` covers `keyword.operator.arrow.tpmap`). */
function has(scopes: string[], scope: string): boolean {
  return scopes.some((s) => s === scope || s.startsWith(scope + '.'));
}

function nthIndex(line: string, text: string, nth: number): number {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = line.indexOf(text, at + 1);
    assert.ok(at >= 0, `\`${text}\` occurs ${nth + 1} time(s) in \`${line}\``);
  }
  return at;
}

/**
 * The nth occurrence of `text` in `line` is exactly a run of whole tokens (no token straddles its
 * edges), and every one of them carries `scope`.
 */
function expectScope(tokens: Tok[], line: string, text: string, scope: string, nth = 0): void {
  const start = nthIndex(line, text, nth);
  const end = start + text.length;
  const covering = tokens.filter((t) => t.start < end && t.end > start);
  const where = `\`${text}\` (#${nth}) in \`${line}\``;
  assert.ok(covering.length > 0, `${where}: no token`);
  assert.equal(covering[0].start, start, `${where}: a token starts before it: ${JSON.stringify(covering[0])}`);
  assert.equal(Math.min(covering.at(-1)!.end, line.length), end, `${where}: a token runs past it: ${JSON.stringify(covering.at(-1))}`);
  for (const t of covering) assert.ok(has(t.scopes, scope), `${where}: \`${t.text}\` has ${t.scopes.join(' ')}, not ${scope}`);
}

function expectNoScope(tokens: Tok[], line: string, text: string, scope: string, nth = 0): void {
  const start = nthIndex(line, text, nth);
  const end = start + text.length;
  for (const t of tokens.filter((t) => t.start < end && t.end > start)) {
    assert.ok(!has(t.scopes, scope), `\`${text}\` in \`${line}\`: \`${t.text}\` has ${t.scopes.join(' ')}, which it should not`);
  }
}

test('grammar: the file is strict JSON with scopeName source.tpmap', () => {
  const raw = JSON.parse(readFileSync(GRAMMAR, 'utf8'));
  assert.equal(raw.scopeName, 'source.tpmap');
});

test('grammar: a source directive with a quoted path and ::ClassName', async () => {
  const line = 'target "models/paddle vit.py"::VisionTransformer   # model source';
  const { tokens } = await tokenize(line);
  expectScope(tokens, line, 'target', 'keyword.control.directive');
  expectScope(tokens, line, '"models/paddle vit.py"', 'string.quoted.double');
  expectScope(tokens, line, '"', 'punctuation.definition.string.begin');
  expectScope(tokens, line, '"', 'punctuation.definition.string.end', 1);
  expectScope(tokens, line, '::', 'punctuation.separator.namespace');
  expectScope(tokens, line, 'VisionTransformer', 'entity.name.class');
  expectScope(tokens, line, '# model source', 'comment.line.number-sign');
  expectScope(tokens, line, '#', 'punctuation.definition.comment');
});

test('grammar: unquoted paths, with and without ::ClassName', async () => {
  let line = 'source ckpt/vit-base.safetensors';
  let { tokens } = await tokenize(line);
  expectScope(tokens, line, 'source', 'keyword.control.directive');
  expectScope(tokens, line, 'ckpt/vit-base.safetensors', 'string.unquoted.path');

  line = 'target paddle_vit.py::VisionTransformer      # model source: keys and shapes are inferred';
  ({ tokens } = await tokenize(line));
  expectScope(tokens, line, 'paddle_vit.py', 'string.unquoted.path');
  expectScope(tokens, line, '::', 'punctuation.separator.namespace');
  expectScope(tokens, line, 'VisionTransformer', 'entity.name.class');
  expectNoScope(tokens, line, 'VisionTransformer', 'string');
  expectScope(tokens, line, '# model source: keys and shapes are inferred', 'comment.line.number-sign');

  // Like the parser, the last `::` starts the class name.
  line = 'target a::b.py::Net';
  ({ tokens } = await tokenize(line));
  expectScope(tokens, line, 'a::b.py', 'string.unquoted.path');
  expectScope(tokens, line, 'Net', 'entity.name.class');

  // A key that merely starts with `source` is a rule, not a directive.
  line = 'source.weight -> target.weight';
  ({ tokens } = await tokenize(line));
  expectNoScope(tokens, line, 'source', 'keyword.control.directive');
  expectScope(tokens, line, 'source', 'variable.other.property');
  expectScope(tokens, line, 'target', 'variable.other.property');
});

test('grammar: `#` inside a quoted path is not a comment', async () => {
  const line = 'source "runs/#3/model.safetensors"  # the third run';
  const { tokens } = await tokenize(line);
  expectScope(tokens, line, '"runs/#3/model.safetensors"', 'string.quoted.double');
  expectNoScope(tokens, line, '#3/model.safetensors', 'comment');
  expectScope(tokens, line, '# the third run', 'comment.line.number-sign');
});

test('grammar: set NAME = INT', async () => {
  const line = 'set hidden_size = 768                         # a config value used by shape inference';
  const { tokens } = await tokenize(line);
  expectScope(tokens, line, 'set', 'keyword');
  expectScope(tokens, line, 'hidden_size', 'variable.other.constant');
  expectScope(tokens, line, '=', 'keyword.operator.assignment');
  expectScope(tokens, line, '768', 'constant.numeric');
  expectScope(tokens, line, '# a config value used by shape inference', 'comment.line.number-sign');
});

test('grammar: framework source|target NAME', async () => {
  for (const side of ['source', 'target']) {
    for (const name of ['torch', 'paddle', 'jax', 'mlx', 'onnx', 'gguf']) {
      const line = `framework ${side} ${name}  # layout`;
      const { tokens } = await tokenize(line);
      expectScope(tokens, line, 'framework', 'keyword');
      expectScope(tokens, line, side, 'keyword');
      expectScope(tokens, line, name, 'support.constant');
      expectScope(tokens, line, '# layout', 'comment.line.number-sign');
    }
  }
  const line = 'framework target tensorflow';
  const { tokens } = await tokenize(line);
  expectNoScope(tokens, line, 'tensorflow', 'support.constant');
});

test('grammar: a rule with {i}, ->, | transpose and a comment', async () => {
  const line = 'encoder.layer.{i}.attention.attention.query.weight -> blocks.{i}.attn.q.weight | transpose  # torch [out, in]';
  const { tokens } = await tokenize(line);
  for (const seg of ['encoder', 'layer', 'attention', 'query', 'weight']) expectScope(tokens, line, seg, 'variable.other.property');
  expectScope(tokens, line, 'encoder.layer.{i}.attention.attention.query.weight', 'meta.key.source');
  expectScope(tokens, line, 'blocks.{i}.attn.q.weight', 'meta.key.target');
  expectScope(tokens, line, '.', 'punctuation.accessor');
  expectScope(tokens, line, '{i}', 'variable.parameter', 0);
  expectScope(tokens, line, '{i}', 'variable.parameter', 1);
  expectScope(tokens, line, '{', 'punctuation.definition');
  expectScope(tokens, line, '}', 'punctuation.definition');
  expectScope(tokens, line, '->', 'keyword.operator.arrow');
  for (const seg of ['blocks', 'attn']) expectScope(tokens, line, seg, 'variable.other.property');
  expectScope(tokens, line, 'q', 'variable.other.property', 1); // the first `q` is in `query`
  expectScope(tokens, line, '|', 'keyword.operator.pipe');
  expectScope(tokens, line, 'transpose', 'support.function');
  expectScope(tokens, line, '# torch [out, in]', 'comment.line.number-sign');
  expectNoScope(tokens, line, '[out, in]', 'punctuation.section');
});

test('grammar: a trailing * is a wildcard; fixed layer indices are numbers', async () => {
  const line = 'embeddings.patch_embeddings.projection.*  -> patch_embed.proj.*';
  const { tokens } = await tokenize(line);
  expectScope(tokens, line, '*', 'keyword.operator.wildcard', 0);
  expectScope(tokens, line, '*', 'keyword.operator.wildcard', 1);
  expectScope(tokens, line, 'patch_embed', 'meta.key.target', 1); // the first is in `patch_embeddings`

  const fixed = 'h.0.attn.c_attn.weight->blocks.0.qkv.weight|transpose';
  const r = await tokenize(fixed);
  expectScope(r.tokens, fixed, '0', 'constant.numeric', 0);
  expectScope(r.tokens, fixed, '0', 'constant.numeric', 1);
  expectScope(r.tokens, fixed, 'c_attn', 'variable.other.property');
  expectScope(r.tokens, fixed, '->', 'keyword.operator.arrow');
  expectScope(r.tokens, fixed, '|', 'keyword.operator.pipe');
  expectScope(r.tokens, fixed, 'transpose', 'support.function');
});

test('grammar: a bracketed cat rule', async () => {
  const line = '[a.{i}.k.weight, a.{i}.v.weight] -> b.{i}.kv.weight | cat(0) | transpose';
  const { tokens } = await tokenize(line);
  expectScope(tokens, line, '[', 'punctuation.section.brackets.begin');
  expectScope(tokens, line, ',', 'punctuation.separator');
  expectScope(tokens, line, ']', 'punctuation.section.brackets.end');
  expectScope(tokens, line, 'a.{i}.k.weight', 'meta.key.source');
  expectScope(tokens, line, 'a.{i}.v.weight', 'meta.key.source');
  expectScope(tokens, line, 'k', 'variable.other.property');
  expectScope(tokens, line, 'v', 'variable.other.property');
  for (let n = 0; n < 3; n++) expectScope(tokens, line, '{i}', 'variable.parameter', n);
  expectScope(tokens, line, '->', 'keyword.operator.arrow');
  expectScope(tokens, line, 'b.{i}.kv.weight', 'meta.key.target');
  expectScope(tokens, line, '|', 'keyword.operator.pipe', 0);
  expectScope(tokens, line, '|', 'keyword.operator.pipe', 1);
  expectScope(tokens, line, 'cat', 'support.function');
  expectScope(tokens, line, '(', 'punctuation.definition.arguments.begin');
  expectScope(tokens, line, '0', 'constant.numeric');
  expectScope(tokens, line, ')', 'punctuation.definition.arguments.end');
  expectScope(tokens, line, 'transpose', 'support.function');
});

test('grammar: `drop` after the arrow, then a comment', async () => {
  const line = 'x.* -> drop  # comment';
  const { tokens } = await tokenize(line);
  expectScope(tokens, line, 'x', 'variable.other.property');
  expectScope(tokens, line, '*', 'keyword.operator.wildcard');
  expectScope(tokens, line, '->', 'keyword.operator.arrow');
  expectScope(tokens, line, 'drop', 'keyword.control.drop');
  expectScope(tokens, line, '# comment', 'comment.line.number-sign');

  // `drop` is a keyword only as the whole target: in a key or a source it is a segment.
  for (const other of ['drop.x -> y', 'a -> drop.x', 'a.drop -> b.drop']) {
    const r = await tokenize(other);
    expectNoScope(r.tokens, other, 'drop', 'keyword.control.drop');
    expectScope(r.tokens, other, 'drop', 'variable.other.property');
  }
});

test('grammar: transforms with integer and dtype arguments', async () => {
  let line = 'lm_head.weight -> lm_head.weight | cast(F16)';
  let { tokens } = await tokenize(line);
  expectScope(tokens, line, '|', 'keyword.operator.pipe');
  expectScope(tokens, line, 'cast', 'support.function');
  expectScope(tokens, line, 'F16', 'support.type');

  for (const dtype of ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']) {
    line = `a -> b | cast(${dtype})`;
    ({ tokens } = await tokenize(line));
    expectScope(tokens, line, dtype, 'support.type');
  }

  line = 'c.qkv.weight -> q.weight | chunk(3, 0, 1) | permute(3, 2, 0, 1) | reshape(-1, 768) | squeeze(0) | unsqueeze(1)';
  ({ tokens } = await tokenize(line));
  for (const t of ['chunk', 'permute', 'reshape', 'squeeze', 'unsqueeze']) expectScope(tokens, line, t, 'support.function');
  expectScope(tokens, line, '-1', 'constant.numeric');
  expectScope(tokens, line, '768', 'constant.numeric');
  expectScope(tokens, line, '3', 'constant.numeric');
  expectScope(tokens, line, ',', 'punctuation.separator');
  expectScope(tokens, line, 'unsqueeze', 'support.function');

  line = 'a -> b | frobnicate(1)';
  ({ tokens } = await tokenize(line));
  expectNoScope(tokens, line, 'frobnicate', 'support.function');
});

test('grammar: half-typed lines do not leak state into the next line', async () => {
  const grammarLines = ['[a.{i}.k, a.{i}.v', 'a -> b | reshape(2, ', 'source "unterminated', 'a -> b | cast(F16 # no close', 'set n ='];
  const next = 'x.{i}.w -> y.{i}.w | transpose';
  for (const first of grammarLines) {
    const a = await tokenize(first);
    const carried = await tokenize(next, a.stack);
    const fresh = await tokenize(next);
    assert.deepEqual(carried.tokens, fresh.tokens, `after \`${first}\``);
  }
});

test('grammar: every example mapping is tokenised line by line, with nothing left unscoped', async () => {
  const files: string[] = [];
  if (existsSync(EXAMPLES)) {
    for (const d of readdirSync(EXAMPLES, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      const dir = path.join(EXAMPLES, d.name);
      for (const f of readdirSync(dir)) if (f.endsWith('.tpmap')) files.push(path.join(dir, f));
    }
  }
  const spec = path.join(EXAMPLES, '..', 'spec', 'tpmap.md');
  const texts = files.map((f) => ({ name: path.relative(EXAMPLES, f), text: readFileSync(f, 'utf8') }));
  if (existsSync(spec)) {
    const block = /```tpmap\n([\s\S]*?)```/.exec(readFileSync(spec, 'utf8'));
    if (block) texts.push({ name: 'spec/tpmap.md', text: block[1] });
  }
  assert.ok(texts.length > 0, 'there are example mappings to tokenise');
  for (const { name, text } of texts) {
    let stack = vsctm.INITIAL;
    for (const [i, line] of text.split(/\r?\n/).entries()) {
      const carried = await tokenize(line, stack);
      const fresh = await tokenize(line);
      assert.deepEqual(carried.tokens, fresh.tokens, `${name}:${i + 1}: state leaked from the line before`);
      stack = carried.stack;
      for (const t of carried.tokens) {
        if (!t.text.trim()) continue;
        const specific = t.scopes.filter((s) => s !== 'source.tpmap' && !s.startsWith('meta.'));
        assert.ok(specific.length > 0, `${name}:${i + 1}: \`${t.text}\` has no scope beyond ${t.scopes.join(' ')}`);
      }
    }
  }
});

interface LanguageConfiguration {
  comments: { lineComment: string };
  brackets: [string, string][];
  autoClosingPairs: { open: string; close: string; notIn?: string[] }[];
  surroundingPairs: [string, string][];
  wordPattern: string;
}

function languageConfiguration(): LanguageConfiguration {
  return JSON.parse(readFileSync(LANGUAGE_CONFIGURATION, 'utf8')); // strict JSON: no comments, no trailing commas
}

/** The words VS Code would see in a line: its word pattern, applied globally. */
function words(line: string): string[] {
  return line.match(new RegExp(languageConfiguration().wordPattern, 'g')) ?? [];
}

/** The word at a column, as double-click and a completion range take it. */
function wordAt(line: string, column: number): string | undefined {
  for (const m of line.matchAll(new RegExp(languageConfiguration().wordPattern, 'g'))) {
    if (m.index <= column && column <= m.index + m[0].length) return m[0];
  }
  return undefined;
}

test('language configuration: strict JSON with # comments, brackets, auto-closing and surrounding pairs', () => {
  const c = languageConfiguration();
  assert.equal(c.comments.lineComment, '#');
  const pairs = [['[', ']'], ['(', ')'], ['{', '}']];
  assert.deepEqual(c.brackets, pairs);
  for (const [open, close] of [...pairs, ['"', '"']]) {
    assert.ok(c.autoClosingPairs.some((p) => p.open === open && p.close === close), `auto-closes ${open}${close}`);
    assert.ok(c.surroundingPairs.some(([o, cl]) => o === open && cl === close), `surrounds with ${open}${close}`);
  }
});

test('language configuration: a whole dotted key with {i} and * is one word, which stops before ->', () => {
  const line = 'encoder.layer.{i}.attention.* -> blocks.{i}.attn.*  # x';
  assert.deepEqual(words(line), ['encoder.layer.{i}.attention.*', 'blocks.{i}.attn.*', 'x']);
  assert.equal(wordAt(line, line.indexOf('{i}') + 1), 'encoder.layer.{i}.attention.*');
  assert.equal(wordAt(line, line.indexOf('attention') + 3), 'encoder.layer.{i}.attention.*');
  assert.equal(wordAt(line, line.indexOf('attn')), 'blocks.{i}.attn.*');

  // No spaces around the arrow: still two words, and `-` inside a key is kept.
  assert.deepEqual(words('a.{i}.w->b-c.{i}.w'), ['a.{i}.w', 'b-c.{i}.w']);
  assert.deepEqual(words('[a.{i}.k.weight, a.{i}.v.weight] -> b.{i}.kv.weight | cat(0)'),
    ['a.{i}.k.weight', 'a.{i}.v.weight', 'b.{i}.kv.weight', 'cat', '0']);
  assert.deepEqual(words('target paddle_vit.py::VisionTransformer'), ['target', 'paddle_vit.py::VisionTransformer']);
  assert.deepEqual(words('a -> b | reshape(-1, 768)'), ['a', 'b', 'reshape', '-1', '768']);
});

test('package.json contributes the grammar, configuration and icon, and the files exist', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'tpmap');
  assert.ok(lang, 'a tpmap language');
  assert.ok(existsSync(path.join(ROOT, lang.configuration)), lang.configuration);
  assert.ok(existsSync(path.join(ROOT, lang.icon.light)), lang.icon.light);
  assert.ok(existsSync(path.join(ROOT, lang.icon.dark)), lang.icon.dark);
  const grammar = pkg.contributes.grammars.find((g: { language: string }) => g.language === 'tpmap');
  assert.equal(grammar.scopeName, 'source.tpmap');
  assert.equal(path.resolve(ROOT, grammar.path), GRAMMAR);
  const svg = readFileSync(path.join(ROOT, lang.icon.light), 'utf8');
  assert.match(svg, /<svg[^>]*viewBox="0 0 16 16"/);
});
