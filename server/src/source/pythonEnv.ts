/**
 * The user's Python environment, found the way an editor's Python support finds it: the interpreter
 * the user chose (`--python PATH`, the `tensorport.python` setting or the Python extension's selected
 * interpreter, passed to the language server), else a `.venv`/`venv` found upward from the model file.
 * A chosen interpreter's module search path comes from running it once, isolated (`-I`: no current
 * folder, no PYTHON* variables, no user site), with code that imports only `sys` and `json` — no file
 * of the workspace is ever imported; cached per interpreter (path and mtime), bounded by a timeout. A
 * `.venv` found on its own is never run (a checked-out repository's `bin/python` could be anything):
 * its search path is read from its layout — `pyvenv.cfg`, `lib/pythonX.Y/site-packages` and the
 * folders its `.pth` files list. A failure is one note, and inference goes on as without an environment.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface PythonEnv {
  /** The interpreter as chosen or found (not resolved through links: a venv's `python` is the venv). */
  python: string;
  /** How it was chosen: `--python`, `the editor's interpreter`, or `.venv at DIR`. */
  from: string;
  /** `sys.path` without the current folder: existing folders, in order. */
  paths: string[];
}

/** The environment to resolve a model's imports in, or why there is none usable; `note` says which was used. */
export interface EnvAnswer { env?: PythonEnv; note?: string }

/** Seconds an interpreter gets to print its search path (a slow network file system, a cold conda). */
export const PYTHON_TIMEOUT_MS = 5_000;

let chosen: { python: string; from: string } | undefined;

/**
 * The interpreter the user chose, for every model loaded after this; undefined goes back to finding a
 * workspace `.venv`. `from` names where it came from in notes.
 */
export function setPythonInterpreter(python: string | undefined, from = '--python'): void {
  const p = python?.trim();
  chosen = p ? { python: path.resolve(p), from } : undefined;
}

export function chosenInterpreter(): { python: string; from: string } | undefined {
  return chosen;
}

const answers = new Map<string, Promise<EnvAnswer>>();

/** The environment for a model file: the chosen interpreter, else a `.venv`/`venv` upward from the file, else none. */
export async function pythonEnvFor(modelFile: string): Promise<EnvAnswer> {
  if (!chosen) {
    const venv = await findVenv(path.dirname(modelFile));
    if (!venv) return {};
    const hit = venvAnswers.get(venv);
    if (hit && Date.now() - hit.at < VENV_TTL_MS) return hit.answer;
    const answer = venvEnv(venv);
    venvAnswers.set(venv, { at: Date.now(), answer });
    return answer;
  }
  const pick = chosen;
  let mtime: number;
  try {
    const st = await fs.stat(pick.python);
    if (!st.isFile()) return { note: `the Python environment was not used: ${pick.python} (${pick.from}) is not a file` };
    mtime = st.mtimeMs;
  } catch {
    return { note: `the Python environment was not used: ${pick.python} (${pick.from}) does not exist` };
  }
  const key = `${pick.python}\u0000${mtime}\u0000${pick.from}`;
  let answer = answers.get(key);
  if (!answer) {
    answer = askSearchPath(pick.python, pick.from);
    answers.set(key, answer);
  }
  return answer;
}

const VENV_TTL_MS = 10_000;
const venvs = new Map<string, { at: number; found: Promise<string | undefined> }>();
const venvAnswers = new Map<string, { at: number; answer: Promise<EnvAnswer> }>();

/**
 * A `.venv`/`venv` with `bin/python` (`Scripts\python.exe` on Windows) and a `pyvenv.cfg` in the file's
 * folder or any above it; looked up again after a few seconds (a venv made while the editor is open).
 */
function findVenv(dir: string): Promise<string | undefined> {
  const hit = venvs.get(dir);
  if (hit && Date.now() - hit.at < VENV_TTL_MS) return hit.found;
  const found = (async () => {
    const exe = process.platform === 'win32' ? path.join('Scripts', 'python.exe') : path.join('bin', 'python');
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
      for (const name of ['.venv', 'venv']) {
        const venv = path.join(d, name);
        if (await isFile(path.join(venv, exe)) && await isFile(path.join(venv, 'pyvenv.cfg'))) return venv;
      }
      if (path.dirname(d) === d) return undefined;
    }
  })();
  venvs.set(dir, { at: Date.now(), found });
  return found;
}

const isFile = (p: string) => fs.stat(p).then((s) => s.isFile(), () => false);
const isDir = (p: string) => fs.stat(p).then((s) => s.isDirectory(), () => false);

/**
 * A virtual environment's search path from its layout, as `site` builds it: its site-packages, the
 * folders its `.pth` files name (editable installs), and the base installation's site-packages when
 * `include-system-site-packages = true`. The standard library is left out: it holds no layers.
 */
async function venvEnv(venv: string): Promise<EnvAnswer> {
  const python = path.join(venv, process.platform === 'win32' ? path.join('Scripts', 'python.exe') : path.join('bin', 'python'));
  const from = `${path.basename(venv)} at ${path.dirname(venv)}`;
  const cfg = new Map<string, string>();
  const text = await fs.readFile(path.join(venv, 'pyvenv.cfg'), 'utf8').catch(() => '');
  for (const line of text.split(/\r?\n/)) { const m = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line); if (m) cfg.set(m[1].toLowerCase(), m[2]); }
  const sites = await siteFolders(venv);
  const home = cfg.get('home');
  const version = /^(\d+\.\d+)/.exec(cfg.get('version_info') ?? cfg.get('version') ?? '')?.[1];
  if (cfg.get('include-system-site-packages')?.toLowerCase() === 'true' && home) {
    const base = path.dirname(home); // `home` is the base interpreter's folder (`…/bin`)
    const sys = process.platform === 'win32' ? [path.join(home, 'Lib', 'site-packages')] : version ? [path.join(base, 'lib', `python${version}`, 'site-packages')] : [];
    for (const p of sys) if (await isDir(p)) sites.push(p);
  }
  const paths: string[] = [];
  for (const site of sites) {
    paths.push(site);
    for (const p of await pthFolders(site)) if (!paths.includes(p)) paths.push(p);
  }
  if (!paths.length) return { note: `the Python environment was not used: ${venv} has no site-packages folder` };
  return { env: { python, from, paths }, note: `imports of installed packages resolved through ${from} (read, not run): ${paths.join(path.delimiter)}` };
}

async function siteFolders(venv: string): Promise<string[]> {
  if (process.platform === 'win32') { const p = path.join(venv, 'Lib', 'site-packages'); return await isDir(p) ? [p] : []; }
  const out: string[] = [];
  for (const lib of ['lib', 'lib64']) {
    const names = await fs.readdir(path.join(venv, lib)).catch(() => [] as string[]);
    for (const n of names.filter((x) => /^python\d/.test(x)).sort()) {
      const p = path.join(venv, lib, n, 'site-packages');
      const real = await fs.realpath(p).catch(() => p);
      if (await isDir(p) && !(await Promise.all(out.map((o) => fs.realpath(o).catch(() => o)))).includes(real)) out.push(p);
    }
  }
  return out;
}

/** The folders a site folder's `.pth` files add (lines that are paths; `import …` lines are code, never run). */
async function pthFolders(site: string): Promise<string[]> {
  const out: string[] = [];
  const names = (await fs.readdir(site).catch(() => [] as string[])).filter((n) => n.endsWith('.pth')).sort();
  for (const n of names) {
    const text = await fs.readFile(path.join(site, n), 'utf8').catch(() => '');
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || /^import[\s\t]/.test(line)) continue;
      const p = path.resolve(site, line);
      if (await isDir(p) && !out.includes(p)) out.push(p);
    }
  }
  return out;
}

// Prints the search path only: `sys` and `json` are the interpreter's own, nothing else is imported.
const PRINT_PATH = 'import sys, json; print(json.dumps(sys.path))';

function askSearchPath(python: string, from: string): Promise<EnvAnswer> {
  return new Promise((resolve) => {
    execFile(python, ['-I', '-c', PRINT_PATH], { timeout: PYTHON_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1 << 20, windowsHide: true }, (err, stdout) => {
      const fail = (why: string) => resolve({ note: `the Python environment was not used: ${python} (${from}) ${why}; imports of installed packages stay references by name` });
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
        if (e.killed || e.signal === 'SIGKILL') return fail(`did not answer within ${PYTHON_TIMEOUT_MS / 1000} s`);
        return fail(`could not be run (${e.code ?? e.message.split('\n')[0]})`);
      }
      let parsed: unknown;
      try { parsed = JSON.parse(stdout.trim().split('\n').pop() ?? ''); } catch { return fail('printed no search path'); }
      if (!Array.isArray(parsed)) return fail('printed no search path');
      void keepFolders(parsed.filter((p): p is string => typeof p === 'string' && path.isAbsolute(p))).then((paths) => {
        resolve({ env: { python, from, paths }, note: `imports of installed packages resolved through ${python} (${from}): ${paths.length} search path folder${paths.length === 1 ? '' : 's'} (${paths.join(path.delimiter)})` });
      });
    });
  });
}

/** Folders only: a `python311.zip` entry holds the standard library, which holds no layers. */
async function keepFolders(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) if (!out.includes(p) && await fs.stat(p).then((s) => s.isDirectory(), () => false)) out.push(p);
  return out;
}
