/**
 * Test support: the project's Python test environment (test/python/.venv, made by
 * test/python/ensure-venv.mjs, which `npm test` runs first). Tests that need the real frameworks ask
 * for it here and skip, saying why, where it is not there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const VENV = path.join(__dirname, '..', 'python', '.venv');
const PYTHON = path.join(VENV, 'bin', 'python');

/** The venv's python, or why there is none (a `skip` reason for node:test). */
export function testPython(): { python: string; skip: false } | { python: undefined; skip: string } {
  if (process.env.TENSORPORT_PYTHON_TESTS === 'skip') return { python: undefined, skip: 'TENSORPORT_PYTHON_TESTS=skip' };
  if (!existsSync(path.join(VENV, 'requirements.sha1'))) {
    return { python: undefined, skip: 'no Python test environment (python3 missing? `node test/python/ensure-venv.mjs` makes it)' };
  }
  return { python: PYTHON, skip: false };
}

const JAX_VENV = path.join(__dirname, '..', 'python', '.venv-jax');

/** test/python/.venv-jax (JAX/Flax, TensorFlow, Keras: requirements-jax.txt), or why there is none. */
export function testJaxPython(): { python: string; skip: false } | { python: undefined; skip: string } {
  if (process.env.TENSORPORT_PYTHON_TESTS === 'skip') return { python: undefined, skip: 'TENSORPORT_PYTHON_TESTS=skip' };
  if (!existsSync(path.join(JAX_VENV, 'requirements.sha1'))) {
    return { python: undefined, skip: 'no JAX/TensorFlow test environment (`node test/python/ensure-venv.mjs` makes test/python/.venv-jax)' };
  }
  return { python: path.join(JAX_VENV, 'bin', 'python'), skip: false };
}

/** Runs the venv's python; a failure throws with the end of its output. */
export function runPython(python: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(python, args, {
    encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
  });
  if (r.status !== 0) throw new Error(`${path.basename(args[0] ?? python)} failed (${r.status ?? r.signal}):\n${`${r.stdout}\n${r.stderr}`.slice(-4000)}`);
  return r.stdout;
}
