/**
 * Loads a model source for inference: the file that defines the root class, and every workspace file
 * its imports reach (`from .blocks import Block`, `import { Block } from './blocks'`), lowered to the
 * common tree. Imports that leave the workspace (torch, paddle, transformers) become references the
 * interpreter knows by name. Loaded models are cached until one of their files changes on disk.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { statSync } from 'node:fs';
import { readRegularFile, readRegularFileSync } from '../formats/openRegular';
import { ClassDef, FunctionDef, ImportBinding, SourceFile } from './ir';
import { lowerPython, lowerPythonSync } from './pyLower';
import { lowerTypeScript } from './tsLower';
import { Value } from './values';
import { Host } from './interpret';
import { ImportResolver } from './importResolver';
import { fromInstalledSource } from './knownNames';
import { EnvAnswer, PythonEnv, pythonEnvFor } from './pythonEnv';

/** A model source that cannot be used: the message names the file and the reason. */
export class SourceError extends Error {}

export interface LoadedModel {
  /** Absolute path of the file with the root class. */
  path: string;
  className: string;
  language: 'python' | 'ts';
  /** The root: a class (`ViTModel`), or a factory function that returns the model (PaddleClas's `ResNet50`). */
  root: { def: ClassDef; file: SourceFile } | { fn: FunctionDef; file: SourceFile };
  files: Map<string, SourceFile>;
  host: Host;
  /** Changes whenever any file of the model changes: a cache key for what is inferred from it. */
  stamp: string;
  /** What loading says beside inference's own notes: which Python environment imports resolved through. */
  notes: string[];
}

export interface LoadOptions {
  /** Unsaved editor buffers by absolute path, read instead of the disk. */
  overlay?: ReadonlyMap<string, string>;
}

const MAX_FILES = 64;
const cache = new Map<string, { stamps: Map<string, string>; model: Promise<LoadedModel> }>();
/**
 * Lowered files by path, valid while their stamp holds: a second class of the same package (CLIPTextModel
 * after CLIPModel, hover moving between classes) reads and lowers none of its files again. Lowered trees
 * are never changed by inference; lazily lowered definitions fill in once and serve every model.
 */
const lowered = new Map<string, { stamp: string; file: SourceFile }>();
const LOWERED_MAX = 256;

function remember(p: string, stamp: string, file: SourceFile): SourceFile {
  if (lowered.size >= LOWERED_MAX) lowered.clear();
  lowered.set(p, { stamp, file });
  return file;
}

/** Benches only: forget every loaded model and lowered file, so the next load is cold (the parser stays loaded). */
export function resetSourceCaches(): void {
  cache.clear();
  lowered.clear();
}

export function languageOf(file: string): 'python' | 'ts' | undefined {
  if (/\.pyi?$/.test(file)) return 'python';
  // JavaScript is read by the same parser, into the same tree: a TF.js model is written in either.
  if (/\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/.test(file)) return 'ts';
  return undefined;
}

async function stampOf(p: string, overlay?: ReadonlyMap<string, string>): Promise<string> {
  const text = overlay?.get(p);
  if (text !== undefined) return `overlay:${text.length}:${hash(text)}`;
  try {
    const st = await fs.stat(p);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Loads `absPath` and the root class `className`; throws SourceError with a one-line reason. */
export async function loadModelSource(absPath: string, className: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  // Python models resolve installed packages' imports through the user's environment (pythonEnv.ts), when there is one.
  const env: EnvAnswer = languageOf(absPath) === 'python' ? await pythonEnvFor(absPath) : {};
  const key = `${absPath}::${className}::${env.env?.python ?? ''}::${env.note ?? ''}`;
  const hit = cache.get(key);
  if (hit) {
    let same = true;
    for (const [p, s] of hit.stamps) if ((await stampOf(p, opts.overlay)) !== s) { same = false; break; }
    if (same) return hit.model;
  }
  const stamps = new Map<string, string>();
  const model = load(absPath, className, opts, stamps, env);
  cache.set(key, { stamps, model });
  model.catch(() => cache.delete(key));
  return model;
}

async function load(absPath: string, className: string, opts: LoadOptions, stamps: Map<string, string>, env: EnvAnswer): Promise<LoadedModel> {
  const language = languageOf(absPath);
  if (!language) throw new SourceError(`${absPath}: model source must be a .py, .ts or .js file`);
  const files = new Map<string, SourceFile>();
  const readOne = async (p: string): Promise<SourceFile> => {
    const stamp = await stampOf(p, opts.overlay);
    stamps.set(p, stamp);
    const hit = lowered.get(p);
    if (hit && hit.stamp === stamp && stamp !== 'missing') return hit.file;
    let text = opts.overlay?.get(p);
    if (text === undefined) {
      try {
        text = await readRegularFile(p, 'a model source file'); // a named pipe is refused, not waited on
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new SourceError(`${p}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
      }
    }
    const lang = languageOf(p)!;
    try {
      return remember(p, stamp, await (lang === 'python' ? lowerPython(p, text) : lowerTypeScript(p, text)));
    } catch (e) {
      // The TypeScript compiler's parser recurses per nesting level: 10,000 parentheses exhaust the stack.
      if (e instanceof RangeError) throw new SourceError(`${p}: nests too deeply to read (the parser ran out of stack)`);
      throw e;
    }
  };
  const rootFile = await readOne(absPath);
  files.set(absPath, rootFile);
  if (language === 'python') {
    const model = finish(absPath, className, language, rootFile, files, stamps, pythonHost(files, stamps, opts.overlay, env.env));
    if (env.note) model.notes.push(env.note);
    return model;
  }
  // Every workspace file an import reaches, breadth first, so the interpreter never waits on I/O.
  const queue = [rootFile];
  while (queue.length && files.size < MAX_FILES) {
    const f = queue.shift()!;
    for (const b of f.imports) {
      for (const cand of candidates(f, b)) {
        if (files.has(cand.path) || !(await exists(cand.path, opts.overlay))) continue;
        const loaded = await readOne(cand.path).catch(() => undefined);
        if (loaded) { files.set(cand.path, loaded); queue.push(loaded); }
        break;
      }
    }
  }
  return finish(absPath, className, language, rootFile, files, stamps, { resolveImport: (from, b) => resolve(files, from, b) });
}

let loads = 0;

function finish(absPath: string, className: string, language: 'python' | 'ts', rootFile: SourceFile, files: Map<string, SourceFile>, stamps: Map<string, string>, host: Host): LoadedModel {
  const def = rootFile.classes.get(className);
  const fn = def ? undefined : rootFile.functions.get(className);
  if (!def && !fn) {
    const names = [...rootFile.classes.keys()];
    throw new SourceError(`${absPath}: no class or function \`${className}\`${names.length ? ` (classes here: ${names.join(', ')})` : ' (the file defines no classes)'}`);
  }
  // Unique per load: files read later (Python's imports, on demand) are in `stamps` for revalidation,
  // and a model loaded again after any change is a new model for every cache keyed on this.
  const stamp = `${[...stamps].map(([p, s]) => `${p}=${s}`).join('|')}#${++loads}`;
  return { path: absPath, className, language, root: def ? { def, file: rootFile } : { fn: fn!, file: rootFile }, files, host, stamp, notes: [] };
}

/**
 * Python imports resolved on demand: a file is read and lowered (its classes lazily, see pyLower) the
 * first time the interpreter follows an import into it — transformers' modeling files import a dozen
 * sibling modules (generation, tokenization…) a model's `__init__` never touches. Synchronous: the
 * parser is loaded, and these are small reads the interpreter needs now.
 */
function pythonHost(files: Map<string, SourceFile>, stamps: Map<string, string>, overlay?: ReadonlyMap<string, string>, env?: PythonEnv): Host {
  const missing = new Set<string>();
  const load = (p: string): SourceFile | undefined => {
    const have = files.get(p);
    if (have || missing.has(p) || files.size >= MAX_FILES) return have;
    try {
      const stamp = stampSync(p, overlay);
      const hit = lowered.get(p);
      if (hit && hit.stamp === stamp && stamp !== 'missing') { stamps.set(p, stamp); files.set(p, hit.file); return hit.file; }
      const text = overlay?.get(p) ?? readRegularFileSync(p, 'a model source file').toString('utf8');
      stamps.set(p, stamp);
      const f = remember(p, stamp, lowerPythonSync(p, text));
      files.set(p, f);
      return f;
    } catch {
      missing.add(p);
      return undefined;
    }
  };
  const externals = new Map<string, { def: ClassDef; file: SourceFile } | undefined>();
  // Every name lookup of an imported name resolves it again: whether a path is a file is asked once.
  const isFile = new Map<string, boolean>();
  const fileAt = (p: string) => { let f = isFile.get(p); if (f === undefined) isFile.set(p, f = overlay?.has(p) || isFileSync(p)); return f; };
  // An import binds the same value however often its name is looked up (the interpreter asks on every
  // use): resolved once per binding — the candidates' path arithmetic was ~5% of a cold `keys`.
  const resolved = new WeakMap<ImportBinding, Value>();
  const installed = env && installedPackages(env, stamps);
  return {
    resolveImport: (from, b) => {
      // A file of the environment (torch's transformer.py) names everything by its qualified name: the
      // interpreter knows framework layers by name and resolves the rest through resolveQualified.
      const q = installed?.qualifiedImport(from, b);
      if (q) return installed!.value(q);
      const hit = resolved.get(b);
      if (hit) return hit;
      // The first candidate that exists is the import's file, as in the TypeScript walk; later ones are not read.
      const first = candidates(from, b).find((c) => files.has(c.path) || fileAt(c.path));
      if (first && !files.has(first.path)) load(first.path);
      let v = resolve(files, from, b);
      // `from paddle.vision.models.resnet import BasicBlock`: the class itself, so `block.expansion` reads it.
      if (v.t === 'ref' && installed) v = installed.value(v.q);
      resolved.set(b, v);
      return v;
    },
    externalClass: (q) => {
      if (!externals.has(q)) externals.set(q, externalConfigClass(q, files));
      return externals.get(q);
    },
    ...(installed ? {
      resolveQualified: (q: string) => installed.resolve(q), installedVariable: (q: string) => installed.variable(q), installedFile: (f: SourceFile) => installed.fileName(f),
      installedModule: (q: string) => installed.module(q), moduleName: (f: SourceFile) => installed.moduleName(f),
    } : {}),
  };
}

/**
 * The environment's packages for one model: a qualified name → the class or function its source
 * defines (importResolver.ts), each file read recorded in the model's stamps. Files reached this way
 * are the environment's, whose own imports stay qualified names.
 */
function installedPackages(env: PythonEnv, stamps: Map<string, string>) {
  const resolver = new ImportResolver(env.paths);
  const envFiles = new WeakSet<SourceFile>();
  const values = new Map<string, Value | undefined>();
  return {
    qualifiedImport(from: SourceFile, b: ImportBinding): string | undefined {
      if (!envFiles.has(from)) return undefined;
      const mod = resolver.absolute(from, b);
      if (mod === undefined) return undefined;
      return b.name ? (mod ? `${mod}.${b.name}` : b.name) : mod;
    },
    /** What an imported name is: the class or function an installed package defines, or the name as a reference. */
    value(q: string): Value {
      return (fromInstalledSource(q) ? this.resolve(q) : undefined) ?? { t: 'ref', q };
    },
    fileName(f: SourceFile): string | undefined {
      if (!envFiles.has(f)) return undefined;
      const mod = resolver.moduleOf(f.path);
      return mod ? `${mod.split('.').join('/')}${/[\\/]__init__\.pyi?$/.test(f.path) ? '/__init__' : ''}.py` : path.basename(f.path);
    },
    module(q: string): SourceFile | undefined {
      const f = resolver.moduleSource(q);
      for (const [p, s] of resolver.read) if (!stamps.has(p)) stamps.set(p, s);
      if (f) envFiles.add(f);
      return f;
    },
    moduleName(f: SourceFile): string | undefined {
      return resolver.moduleOf(f.path);
    },
    variable(q: string): { file: SourceFile; name: string } | undefined {
      const r = resolver.resolveQualified(q);
      if (r?.t !== 'var') return undefined;
      envFiles.add(r.file);
      return { file: r.file, name: r.name };
    },
    resolve(q: string): Value | undefined {
      if (values.has(q)) return values.get(q);
      const r = resolver.resolveQualified(q);
      for (const [p, s] of resolver.read) if (!stamps.has(p)) stamps.set(p, s);
      let v: Value | undefined;
      if (r?.t === 'class') { envFiles.add(r.file); v = { t: 'class', def: r.def, file: r.file }; }
      else if (r?.t === 'func') { envFiles.add(r.file); v = { t: 'func', fn: r.fn, file: r.file }; }
      values.set(q, v);
      return v;
    },
  };
}

function isFileSync(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

function stampSync(p: string, overlay?: ReadonlyMap<string, string>): string {
  const text = overlay?.get(p);
  if (text !== undefined) return `overlay:${text.length}:${hash(text)}`;
  try { const st = statSync(p); return `${st.size}:${st.mtimeMs}`; } catch { return 'missing'; }
}

/** `transformers.configuration_utils.PreTrainedConfig`: the class alone, from the transformers package a loaded model file sits in. */
function externalConfigClass(q: string, files: Map<string, SourceFile>): { def: ClassDef; file: SourceFile } | undefined {
  const parts = q.split('.');
  const name = parts.pop()!;
  if (parts[0] !== 'transformers' || !/Config$/.test(name)) return undefined;
  const root = [...files.keys()].map(transformersRoot).find((r) => r !== undefined);
  if (!root) return undefined;
  const file = path.join(root, ...parts.slice(1)) + '.py';
  try {
    const text = readRegularFileSync(file, 'a model source file').toString('utf8');
    const start = new RegExp(`^class ${name}\\b`, 'm').exec(text);
    if (!start) return undefined;
    const rest = text.slice(start.index);
    const end = /\n(?=[A-Za-z_@])/.exec(rest.slice(1));
    const lowered = lowerPythonSync(file, end ? rest.slice(0, end.index + 1) : rest);
    const def = lowered.classes.get(name);
    return def ? { def, file: lowered } : undefined;
  } catch {
    return undefined;
  }
}

/** One file lowered to the common tree, for callers that need its classes without a root (hover). */
export async function lowerFile(p: string, overlay?: ReadonlyMap<string, string>): Promise<SourceFile> {
  const lang = languageOf(p);
  if (!lang) throw new SourceError(`${p}: model source must be a .py, .ts or .js file`);
  const text = overlay?.get(p) ?? await readRegularFile(p, 'a model source file');
  return lang === 'python' ? lowerPython(p, text) : lowerTypeScript(p, text);
}

async function exists(p: string, overlay?: ReadonlyMap<string, string>): Promise<boolean> {
  if (overlay?.has(p)) return true;
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * An installed transformers package: its `models/<name>/` files are model source, the rest (modeling_utils,
 * configuration_utils, activations, utils…) is the library — references by qualified name, like torch,
 * not thousands of lines to parse and interpret. The root is the `transformers` folder.
 */
function transformersRoot(file: string): string | undefined {
  const m = /^(.*[\\/]transformers)[\\/]models[\\/][^\\/]+[\\/][^\\/]+\.pyi?$/.exec(file);
  return m?.[1];
}

/** `transformers.configuration_utils` for `from ...configuration_utils import X` in a model's file; undefined for imports that stay in models/. */
function libraryModule(from: SourceFile, b: ImportBinding): string | undefined {
  const root = from.language === 'python' && b.level > 0 ? transformersRoot(from.path) : undefined;
  if (!root) return undefined;
  let base = path.dirname(from.path);
  for (let i = 1; i < b.level; i++) base = path.dirname(base);
  const models = path.join(root, 'models');
  if (base === models || base.startsWith(models + path.sep)) return undefined;
  const rel = path.relative(root, base).split(path.sep).filter(Boolean);
  return ['transformers', ...rel, ...(b.module ? b.module.split('.') : [])].join('.');
}

/** Files an import may name, best first; `member` says whether `b.name` is looked up inside it. */
function candidates(from: SourceFile, b: ImportBinding): { path: string; member: boolean }[] {
  if (libraryModule(from, b)) return [];
  const dir = path.dirname(from.path);
  if (from.language === 'ts') {
    if (!b.module.startsWith('.')) return [];
    const base = path.resolve(dir, b.module.replace(/\.(js|mjs|cjs)$/, ''));
    return [`${base}.ts`, `${base}.mts`, path.join(base, 'index.ts'), `${base}.js`, `${base}.mjs`, `${base}.cjs`, path.join(base, 'index.js')].map((p) => ({ path: p, member: b.name !== undefined }));
  }
  const parts = b.module ? b.module.split('.') : [];
  const bases: string[] = [];
  if (b.level > 0) {
    let base = dir;
    for (let i = 1; i < b.level; i++) base = path.dirname(base);
    bases.push(base);
  } else {
    if (['torch', 'paddle', 'numpy', 'math', 'copy', 'functools', 'collections', 'typing', 'transformers', 'paddlenlp'].includes(parts[0])) return [];
    // An installed package's absolute imports name other installed libraries (huggingface_hub, typing_extensions…), never model code.
    if (/[\\/](site|dist)-packages[\\/]/.test(from.path)) return [];
    // A workspace package may sit at any of a few levels above the file.
    for (let base = dir, i = 0; i < 4; i++, base = path.dirname(base)) bases.push(base);
  }
  const out: { path: string; member: boolean }[] = [];
  for (const base of bases) {
    const mod = path.join(base, ...parts);
    if (b.name) out.push({ path: path.join(mod, `${b.name}.py`), member: false });
    if (parts.length) out.push({ path: `${mod}.py`, member: b.name !== undefined }, { path: path.join(mod, '__init__.py'), member: b.name !== undefined });
  }
  return out;
}

function resolve(files: Map<string, SourceFile>, from: SourceFile, b: ImportBinding): Value {
  for (const c of candidates(from, b)) {
    const f = files.get(c.path);
    if (!f) continue;
    if (!c.member || !b.name) return { t: 'file', file: f };
    const cls = f.classes.get(b.name);
    if (cls) return { t: 'class', def: cls, file: f };
    const fn = f.functions.get(b.name);
    if (fn) return { t: 'func', fn, file: f };
    // Re-exported names: follow the module's own imports once.
    const again = f.imports.find((i) => i.local === b.name);
    if (again && again !== b) return resolve(files, f, again);
    return { t: 'unknown' };
  }
  if (from.language === 'ts') return packageRef(b);
  const lib = libraryModule(from, b);
  if (lib) return { t: 'ref', q: b.name ? `${lib}.${b.name}` : lib };
  const q = [b.module, b.name].filter(Boolean).join('.');
  return { t: 'ref', q: b.level > 0 ? `workspace.${q}` : q };
}

/** TF.js's packages, each exporting the Layers API as `tf.layers`, `tf.sequential`, `tf.model`, `tf.input`. */
const TFJS = /^@tensorflow\/tfjs(-node|-node-gpu|-layers)?$/;

/**
 * A TypeScript/JavaScript import of a package: TF.js by the name `tfjs` (interpret.ts follows its Layers
 * API), anything else by the package's name, outside the code Tensor Port reads.
 */
function packageRef(b: ImportBinding): Value {
  const member = b.name && b.name !== 'default' ? b.name : undefined;
  const root = TFJS.test(b.module) ? 'tfjs' : b.module;
  return { t: 'ref', q: member ? `${root}.${member}` : root };
}
