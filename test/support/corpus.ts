/**
 * Test support: the model-source corpus's truth (test/python/corpus_truth.py: the real state_dict() of 182
 * classes). Building it takes minutes, so it is kept in the temp folder, keyed by the scripts and
 * requirement files that make it; the corpus test and the source bench share it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runPython } from './python';

export type CorpusKeys = Record<string, { shape: number[]; dtype: string }>;
export interface CorpusCase { name: string; library: string; file: string; class: string; default?: CorpusKeys; given?: { config: object; keys: CorpusKeys }; error?: string }

const PY = path.join(__dirname, '..', 'python');

export function corpusTruth(python: string): CorpusCase[] {
  const scripts = ['corpus_truth.py', 'model_truth.py', 'paddle_model_truth.py', 'stand_ins.py', 'requirements.txt', 'requirements-nodeps.txt'];
  const hash = createHash('sha1');
  for (const s of scripts) hash.update(readFileSync(path.join(PY, s)));
  const cache = path.join(tmpdir(), `tensorport-corpus-truth-${hash.digest('hex').slice(0, 16)}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as CorpusCase[];
  const out = runPython(python, [path.join(PY, 'corpus_truth.py')], { timeoutMs: 1_800_000 });
  writeFileSync(cache, out);
  return JSON.parse(out) as CorpusCase[];
}
