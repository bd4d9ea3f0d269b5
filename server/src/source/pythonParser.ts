/**
 * The Python parser: web-tree-sitter with tree-sitter-python's WebAssembly, loaded once per process.
 * Bundles find the two .wasm files beside themselves in dist/ (the build copies them there); code run
 * from sources (tests through tsx) finds them in node_modules.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Tree } from 'web-tree-sitter';
// The bundles are CommonJS: they must take the package's CommonJS build, whose Emscripten loader finds
// its files through __dirname; the ESM build reads import.meta.url, which a CommonJS bundle does not have.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import TreeSitter = require('web-tree-sitter');

const { Language, Parser } = TreeSitter;
type Parser = TreeSitter.Parser;

/** The first place a runtime file exists: next to this bundle, then the npm package. */
export function resolveWasm(file: string, packageSpecifier: string): string {
  const beside = path.join(__dirname, file);
  if (existsSync(beside)) return beside;
  try {
    return require.resolve(packageSpecifier);
  } catch {
    throw new Error(`cannot find ${file} (looked in ${__dirname} and for ${packageSpecifier})`);
  }
}

let ready: Promise<Parser> | undefined;
let loaded: Parser | undefined;

function pythonParser(): Promise<Parser> {
  ready ??= (async () => {
    const runtime = resolveWasm('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtime });
    const language = await Language.load(resolveWasm('tree-sitter-python.wasm', 'tree-sitter-python/tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    loaded = parser;
    return parser;
  })();
  return ready;
}

/** Parses Python text synchronously: only after `parsePython` has loaded the parser once (it throws otherwise). */
export function parsePythonSync(text: string): Tree {
  if (!loaded) throw new Error('the Python parser is not loaded yet');
  const tree = loaded.parse(text);
  if (!tree) throw new Error('the Python parser returned no tree');
  return tree;
}

/** Parses Python text; the caller owns the tree and must `delete()` it. */
export async function parsePython(text: string): Promise<Tree> {
  const parser = await pythonParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error('the Python parser returned no tree');
  return tree;
}
