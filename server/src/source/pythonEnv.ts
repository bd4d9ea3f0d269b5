/**
 * The user's Python environment, found the way an editor's Python support finds it: the interpreter
 * the user chose (`--python PATH`, the `tensorport.python` setting or the Python extension's selected
 * interpreter, passed to the language server), else a `.venv`/`venv` found upward from the model file.
 * Its module search path comes from running that interpreter once, isolated (`-I`: no current folder,
 * no PYTHON* variables, no user site), with code that imports only `sys` and `json` — no file of the
 * workspace is ever imported. The answer is cached per interpreter (path and mtime) and bounded by a
 * timeout; a failure is one note and inference goes on as without an environment.
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
  const pick = chosen ?? await findVenv(path.dirname(modelFile));
  if (!pick) return {};
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

/** `.venv/bin/python`, `venv/bin/python` (`Scripts\python.exe` on Windows) in the file's folder or any above it. */
async function findVenv(dir: string): Promise<{ python: string; from: string } | undefined> {
  const exe = process.platform === 'win32' ? path.join('Scripts', 'python.exe') : path.join('bin', 'python');
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const name of ['.venv', 'venv']) {
      const python = path.join(d, name, exe);
      if (await fs.stat(python).then((s) => s.isFile(), () => false)) return { python, from: `${name} at ${d}` };
    }
    if (path.dirname(d) === d) return undefined;
  }
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
