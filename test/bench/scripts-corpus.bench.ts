/**
 * The README's table of the conversion-script corpus: for each of transformers' scripts, the pairs the
 * checker finds in it, how many of them it checks against the real checkpoints (those in the branches
 * the checkpoints say this port takes), and the diagnostics on the unedited script (0 is the goal).
 * Run: node --import tsx test/bench/scripts-corpus.bench.ts (after `node test/python/ensure-venv.mjs`;
 * TENSORPORT_BENCH_TINY=1: the first two scripts, for the smoke test).
 */
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { checkScript, scanScript } from '../../server/src/scripts/scriptPairs';
import { CASES, corpusMissing, scriptCopy, withDirective } from '../support/scriptCorpus';
import { benchFooter, benchHeader, size } from './benchEnv';

async function main(): Promise<void> {
  const missing = corpusMissing();
  if (missing) { console.log(`skipped: ${missing}`); return; }
  const index = new CheckpointIndex();
  console.log(benchHeader());
  console.log('| script | pairs found | checked | fused parts | diagnostics | not understood yet |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const c of CASES.slice(0, size(CASES.length, 2))) {
    const text = withDirective(c);
    const file = scriptCopy(c, text);
    const scan = await scanScript(file, text);
    const stats = { checked: 0 };
    const ds = await checkScript(file, text, index, stats);
    const parts = scan.pairs.filter((p) => p.flow?.part).length;
    console.log(`| \`${c.script}\` | ${scan.pairs.length} | ${stats.checked} | ${parts} | ${ds.length} | ${c.notYet} |`);
  }
  console.log(benchFooter());
}

void main();
