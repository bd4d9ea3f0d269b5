/**
 * Model source on a corpus of real classes a porter names: transformers, timm and open_clip (torch),
 * PaddleClas, PaddleFormers and PaddleNLP (Paddle), each read in place in the Python test environment's
 * site-packages. The truth is the real state_dict() (test/python/corpus_truth.py): with the class's
 * defaults and nothing beside the file, and — for classes built from a config — with a changed config
 * as `config.json` beside a link to the file. Many of these classes the interpreter does not follow
 * yet; what this test holds it to is that it is never *silently* wrong: every class is exact (same keys,
 * order and shapes), or each key it misses, adds or misshapes lies under a module it reports as
 * `incomplete`, or is listed as conditional. A per-class line goes to stdout to show where it stands.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { readModelSource } from '../../server/src/source/readModelSource';
import { CorpusKeys, corpusTruth } from '../support/corpus';
import { testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();

type Keys = CorpusKeys;

/** What the interpreter could not follow under a module (main's "never silent" contract). */
interface Incomplete { module: string; text: string; why: string }

/** True when `key` lies under the module an `incomplete` entry names ('' is the whole model). */
function explained(key: string, incomplete: readonly Pick<Incomplete, 'module'>[]): boolean {
  return incomplete.some((e) => e.module === '' || key === e.module || key.startsWith(`${e.module}.`));
}

/**
 * Classes whose inference is wrong with no `incomplete` entry saying where, today. The set may only
 * shrink: a class silent and not listed fails the test. It empties as the interpreter reports what it
 * cannot follow (`CheckpointInfo.incomplete`) or follows it.
 */
const KNOWN_SILENT = new Set<string>([
]);

/** Exact classes today, with the defaults and with a changed config.json: they may only grow. */
const EXACT_FLOOR = { default: 159, config: 127 };

const truth = () => corpusTruth(env.python!);

interface Verdict { run: string; exact: boolean; silent: string[]; line: string }

function compare(run: string, info: CheckpointInfo, want: Keys): Verdict {
  const incomplete = (info as CheckpointInfo & { incomplete?: Incomplete[] }).incomplete ?? [];
  const ours = new Map(info.tensors.map((t) => [t.key, t]));
  const wantKeys = Object.keys(want);
  const missing = wantKeys.filter((k) => !ours.has(k));
  const extra = info.tensors.filter((t) => !(t.key in want));
  const shape = info.tensors.filter((t) => t.key in want && JSON.stringify(t.shape) !== JSON.stringify(want[t.key].shape));
  const dtype = info.tensors.filter((t) => t.key in want && t.dtype !== want[t.key].dtype).length;
  const exact = !missing.length && !extra.length && !shape.length && info.tensors.every((t, i) => t.key === wantKeys[i]);
  // A dimension no binding resolved is shown by name (`num_labels`), not as a wrong number: open, not silent.
  const open = shape.filter((t) => t.shape.some((d) => Number.isNaN(d))).length;
  const silent = [
    ...missing.filter((k) => !explained(k, incomplete)).map((k) => `missing ${k}`),
    ...extra.filter((t) => !t.conditional && !explained(t.key, incomplete)).map((t) => `extra ${t.key}`),
    ...shape.filter((t) => !t.conditional && !t.shape.some((d) => Number.isNaN(d)) && !explained(t.key, incomplete))
      .map((t) => `shape ${t.key} ${JSON.stringify(t.shape)} ≠ ${JSON.stringify(want[t.key].shape)}`),
  ];
  const first = missing[0] ? `first missing ${missing[0]}` : extra[0] ? `first extra ${extra[0].key}` : shape[0] ? `first shape ${shape[0].key}` : 'order differs';
  const line = exact
    ? `${run}: exact (${wantKeys.length} tensors${dtype ? `, ${dtype} dtype` : ''})`
    : `${run}: not exact: ${missing.length} missing, ${extra.length} extra, ${shape.length} shape (${open} open) of ${wantKeys.length}; ${first}; ${incomplete.length} incomplete, ${silent.length} unexplained`;
  return { run, exact, silent, line };
}

test('explained(): a key is explained by an incomplete module it lies under, never by a sibling that shares its prefix', () => {
  assert.equal(explained('encoder.layer.10.attn.weight', [{ module: 'encoder.layer.1' }]), false);
  assert.equal(explained('encoder.layer.1.attn.weight', [{ module: 'encoder.layer.1' }]), true);
  assert.equal(explained('encoder.layer.1', [{ module: 'encoder.layer.1' }]), true);
  assert.equal(explained('pooler.dense.weight', [{ module: '' }]), true);
  assert.equal(explained('pooler.dense.weight', []), false);
});

test('the corpus: over 100 real classes are exact or never silently wrong, with the defaults and with a changed config.json', { skip: env.skip, timeout: 3_600_000 }, async () => {
  const cases = truth();
  const built = cases.filter((c) => !c.error);
  for (const c of cases.filter((c) => c.error)) console.log(`${c.name}: the truth could not be built (${c.error})`);
  assert.ok(built.length >= 100, `${built.length} classes`);
  const tmp = scratchDir('corpus-config').dir;
  const verdicts: Verdict[] = [];
  const counts = { default: 0, config: 0, defaultRuns: 0, configRuns: 0 };
  for (const c of built) {
    const spec = `${c.file}::${c.class}`;
    const runs: [string, string, Keys][] = [];
    if (c.default) runs.push([c.name, spec, c.default]);
    if (c.given) {
      // A hub repo with remote code: the modeling file beside its config.json.
      const dir = path.join(tmp, c.name.replace(/\W/g, '_'));
      mkdirSync(dir);
      symlinkSync(c.file, path.join(dir, path.basename(c.file)));
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c.given.config));
      runs.push([`${c.name} (config)`, `${path.join(dir, path.basename(c.file))}::${c.class}`, c.given.keys]);
    }
    for (const [run, s, want] of runs) {
      const withConfig = run.endsWith('(config)');
      let v: Verdict;
      try {
        v = compare(run, await readModelSource(s), want);
      } catch (e) {
        // An error is said, not silent: the user sees it instead of keys.
        v = { run, exact: false, silent: [], line: `${run}: error: ${(e as Error).message.split('\n')[0].slice(0, 160)}` };
      }
      verdicts.push(v);
      console.log(v.line);
      if (withConfig) { counts.configRuns++; if (v.exact) counts.config++; } else { counts.defaultRuns++; if (v.exact) counts.default++; }
    }
  }
  console.log(`corpus: ${built.length} classes; exact ${counts.default}/${counts.defaultRuns} with the defaults, ${counts.config}/${counts.configRuns} with a config.json; ${verdicts.filter((v) => v.silent.length).length} runs silently wrong`);
  const silent = verdicts.filter((v) => v.silent.length);
  const newlySilent = silent.filter((v) => !KNOWN_SILENT.has(v.run));
  assert.deepEqual(newlySilent.map((v) => `${v.run}: ${v.silent.slice(0, 3).join('; ')}`), [], 'silently wrong: keys missing, added or misshaped with no incomplete entry above them');
  // The list is exact: a run that stopped being silent comes off it, so it can never silently come back.
  const healed = [...KNOWN_SILENT].filter((name) => !silent.some((v) => v.run === name));
  assert.deepEqual(healed, [], 'no longer silent: take these off KNOWN_SILENT');
  assert.ok(counts.default >= EXACT_FLOOR.default, `exact with the defaults: ${counts.default} < ${EXACT_FLOOR.default}`);
  assert.ok(counts.config >= EXACT_FLOOR.config, `exact with a config.json: ${counts.config} < ${EXACT_FLOOR.config}`);
});
