/**
 * Large Python files are cut at their top-level statements by a scan, then parsed a class at a time
 * when first looked up: the cut must follow strings, brackets, continuations and decorators, and the
 * lazily lowered tree must be the one a whole parse gives (same classes, same positions).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { lowerPython, lowerPythonSync } from '../../server/src/source/pyLower';
import { splitTopLevel } from '../../server/src/source/topLevelBlocks';
import { testPython } from '../support/python';

test('blocks start only at statements in column 0: not inside strings, brackets or continued lines; decorators join their definition', () => {
  const text = [
    'import torch',
    'X = """',
    'class NotAClass:',
    '"""',
    'Y = (1,',
    '2)',
    'Z = 1 + \\',
    '2',
    '@decorate',
    '@another(arg)',
    'class Real(torch.nn.Module):',
    '    s = "def inside(): pass"',
    "    t = '''",
    "def also_not(): pass",
    "'''",
    '',
    '# a comment at column 0',
    'async def run():',
    '    pass',
    '',
  ].join('\n');
  const blocks = splitTopLevel(text)!;
  assert.deepEqual(blocks.map((b) => [b.row, b.kind, b.name ?? text.slice(b.start, b.end).split('\n')[0]]), [
    [0, 'other', 'import torch'], [1, 'other', 'X = """'], [4, 'other', 'Y = (1,'], [6, 'other', 'Z = 1 + \\'],
    [8, 'class', 'Real'], [17, 'def', 'run'],
  ]);
  assert.equal(splitTopLevel('x = "unterminated\ny = 1\n'), undefined);
  assert.equal(splitTopLevel('x = (1,\n'), undefined);
});

const env = testPython();

test('a large installed modeling file lowered lazily gives the classes and positions a whole parse gives', { skip: env.skip }, async () => {
  const file = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'transformers', 'models', 'whisper', 'modeling_whisper.py');
  const text = readFileSync(file, 'utf8');
  const lazy = await lowerPython(file, text);
  const whole = lowerPythonSync(file, text, { whole: true });
  assert.deepEqual([...lazy.classes.keys()], [...whole.classes.keys()]);
  assert.deepEqual([...lazy.functions.keys()], [...whole.functions.keys()]);
  assert.deepEqual(lazy.imports, whole.imports);
  assert.deepEqual(JSON.parse(JSON.stringify(lazy.top, (_k, x) => (x instanceof Map ? [...x.entries()] : x))), JSON.parse(JSON.stringify(whole.top, (_k, x) => (x instanceof Map ? [...x.entries()] : x))));
  // Maps (methods) as entries, so the comparison reaches every method body and position.
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Map ? [...x.entries()] : x)));
  for (const name of ['WhisperAttention', 'WhisperEncoder', 'WhisperModel']) {
    const a = plain(lazy.classes.get(name));
    assert.ok(a.methods.length > 0, name);
    assert.deepEqual(a, plain(whole.classes.get(name)), name);
  }
});

test('a class body cut at its members: methods and fields at that indentation only, decorators with their method', () => {
  const text = [
    'class Config(Base):',
    '    """Doc with',
    'def not_a_member(): in a string',
    '    """',
    '    model_type = "x"',
    '    @property',
    '    def size(self):',
    '        def inner(): pass',
    '        return (1,',
    '    2)',
    '    def __init__(self, a=1):',
    '        self.a = a',
  ].join('\n');
  assert.deepEqual(splitTopLevel(text, 4)?.map((b) => [b.row, b.kind, b.name ?? '']), [
    [1, 'other', ''], [4, 'other', ''], [5, 'def', 'size'], [10, 'def', '__init__'],
  ]);
});

test('a large class (transformers\' PreTrainedConfig, most of an 80 KB file) lowered member by member equals a whole parse', { skip: env.skip }, () => {
  const file = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'transformers', 'configuration_utils.py');
  const text = readFileSync(file, 'utf8');
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Map ? [...x.entries()] : x)));
  const lazy = lowerPythonSync(file, text).classes.get('PreTrainedConfig')!;
  const whole = lowerPythonSync(file, text, { whole: true }).classes.get('PreTrainedConfig')!;
  assert.ok(whole.methods.size > 20);
  assert.deepEqual([...lazy.methods.keys()], [...whole.methods.keys()]);
  assert.deepEqual(plain(lazy.fields), plain(whole.fields));
  assert.deepEqual(plain(lazy.bases), plain(whole.bases));
  assert.deepEqual(plain(lazy.methods.get('__post_init__')), plain(whole.methods.get('__post_init__')));
  assert.deepEqual(plain(lazy), plain(whole));
});

test('try/except, if/elif/else and for/else at column 0 stay one block: cut apart, each half would be a syntax error', () => {
  const text = ['try:', '    from typing import Literal', 'except ImportError:', '    from typing_extensions import Literal', 'if A:', '    x = 1', 'elif B:', '    x = 2', 'else:', '    x = 3', 'try:', '    pass', 'finally:', '    pass', 'elsewhere = 1', 'class C:', '    pass', ''].join('\n');
  const blocks = splitTopLevel(text)!;
  assert.deepEqual(blocks.map((b) => [b.row, b.kind, b.name ?? text.slice(b.start, b.end).split('\n')[0]]), [
    [0, 'other', 'try:'], [4, 'other', 'if A:'], [10, 'other', 'try:'], [14, 'other', 'elsewhere = 1'], [15, 'class', 'C'],
  ]);
  // The file those blocks come from lowers with no problem (a large file is lowered block by block).
  const big = `${text}${'\n'.repeat(2)}${'# pad\n'.repeat(4000)}`;
  assert.deepEqual(lowerPythonSync('/x/big.py', big).problems ?? [], []);
});
