#!/usr/bin/env node
// Makes the Python test environment on demand (`npm test` runs this first): test/python/.venv from the
// pinned requirements.txt beside this file, then requirements-nodeps.txt without their dependencies, then each requirements-corpus*.txt into its own .venv/corpus* folder (read, not imported). Reused while the requirements are unchanged (their hash is
// stamped inside the venv); remade when they change. Without python3 the Python-backed tests skip,
// saying so; with python3 a failed install fails the run — CI must run every Python-backed test.
// TENSORPORT_PYTHON_TESTS=skip skips them on purpose (a machine with no package registry).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const venv = join(here, '.venv');
const python = join(venv, 'bin', 'python');
const stamp = join(venv, 'requirements.sha1');
const requirements = join(here, 'requirements.txt');
const noDeps = join(here, 'requirements-nodeps.txt');
// Each requirements-corpus*.txt goes into its own folder: .venv/corpus, .venv/corpus-4.20, …
const corpora = readdirSync(here).filter((f) => /^requirements-corpus.*\.txt$/.test(f)).sort()
  .map((f) => ({ file: join(here, f), dir: join(venv, f.replace(/^requirements-/, '').replace(/\.txt$/, '')) }));
const log = join(here, '.venv-install.log');
const shown = relative(process.cwd(), venv) || venv;

const say = (line) => process.stdout.write(`python test environment: ${line}\n`);

if (process.env.TENSORPORT_PYTHON_TESTS === 'skip') {
  say('TENSORPORT_PYTHON_TESTS=skip: the Python-backed tests will be skipped');
  process.exit(0);
}
const hash = createHash('sha1').update(readFileSync(requirements)).update(readFileSync(noDeps));
for (const c of corpora) hash.update(c.dir.slice(venv.length)).update(readFileSync(c.file));
const want = hash.digest('hex');
if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) {
  ensureJax();
  process.exit(0);
}

const base = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
if (base.status !== 0) {
  say('python3 not found: the Python-backed tests will be skipped (install Python 3.11 to run them)');
  process.exit(0);
}

say(`making ${shown} from test/python/requirements.txt (Python ${base.stdout.trim()}; a few minutes, once; log: ${relative(process.cwd(), log)})`);
const started = Date.now();
rmSync(venv, { recursive: true, force: true });
mkdirSync(here, { recursive: true });
const steps = [
  ['python3', ['-m', 'venv', venv]],
  [python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', requirements]],
  [python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--no-deps', '-r', noDeps]],
  // Source to read, not to import: apart from the venv's own packages.
  ...corpora.map((c) => [python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--no-deps', '--target', c.dir, '-r', c.file]]),
];
writeFileSync(log, '');
for (const [cmd, args] of steps) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(log, `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`, { flag: 'a' });
  if (r.status !== 0) {
    const last = `${r.stderr ?? ''}`.trim().split('\n').filter((l) => /error/i.test(l)).pop() ?? `exit ${r.status}`;
    say(`could not be made: ${last.slice(0, 300)} (full log: ${relative(process.cwd(), log)}; TENSORPORT_PYTHON_TESTS=skip skips the Python-backed tests)`);
    rmSync(venv, { recursive: true, force: true });
    process.exit(1);
  }
}
writeFileSync(stamp, `${want}\n`);
say(`ready in ${Math.round((Date.now() - started) / 1000)} s`);
ensureJax();

/**
 * test/python/.venv-jax from requirements-jax.txt: JAX/Flax, TensorFlow and Keras, which pin their own numpy
 * and protobuf, so they live apart from the main venv (test/fixtures/frameworks/make_frameworks.py runs
 * there). Same rules: reused while the requirements are unchanged, a failed install fails the run.
 */
function ensureJax() {
  const jaxVenv = join(here, '.venv-jax');
  const jaxPython = join(jaxVenv, 'bin', 'python');
  const jaxStamp = join(jaxVenv, 'requirements.sha1');
  const jaxRequirements = join(here, 'requirements-jax.txt');
  const jaxLog = join(here, '.venv-jax-install.log');
  const jaxWant = createHash('sha1').update(readFileSync(jaxRequirements)).digest('hex');
  if (existsSync(jaxPython) && existsSync(jaxStamp) && readFileSync(jaxStamp, 'utf8').trim() === jaxWant) return;
  say(`making ${relative(process.cwd(), jaxVenv)} from test/python/requirements-jax.txt (log: ${relative(process.cwd(), jaxLog)})`);
  const jaxStarted = Date.now();
  rmSync(jaxVenv, { recursive: true, force: true });
  writeFileSync(jaxLog, '');
  for (const [cmd, args] of [
    ['python3', ['-m', 'venv', jaxVenv]],
    [jaxPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', jaxRequirements]],
  ]) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(jaxLog, `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`, { flag: 'a' });
    if (r.status !== 0) {
      say(`${relative(process.cwd(), jaxVenv)} could not be made (full log: ${relative(process.cwd(), jaxLog)}; TENSORPORT_PYTHON_TESTS=skip skips the Python-backed tests)`);
      rmSync(jaxVenv, { recursive: true, force: true });
      process.exit(1);
    }
  }
  writeFileSync(jaxStamp, `${jaxWant}\n`);
  say(`${relative(process.cwd(), jaxVenv)} ready in ${Math.round((Date.now() - jaxStarted) / 1000)} s`);
}
