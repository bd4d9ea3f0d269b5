// Bundles the client (vscode external), the language server and the CLI into dist/, and copies the
// WebAssembly the Python parser loads at run time. onnxruntime-node stays external (a native module
// that loads its own binaries from node_modules), and so does typescript: only TS model sources need
// it, and bundled it would cost every CLI start ~0.4 s of parsing for nothing.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { OUT as SIMD_TS, simdWasmSource } from './.ci/simd-wasm.mjs';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
const nativeExternals = ['onnxruntime-node', 'typescript'];

mkdirSync('dist', { recursive: true });
// The converter's SIMD kernels (transposes, casts): the .wat compiled into a TypeScript module, rewritten only when it changed.
const simdTs = await simdWasmSource();
if (!existsSync(SIMD_TS) || readFileSync(SIMD_TS, 'utf8') !== simdTs) writeFileSync(SIMD_TS, simdTs);
for (const wasm of ['node_modules/web-tree-sitter/tree-sitter.wasm', 'node_modules/tree-sitter-python/tree-sitter-python.wasm']) {
  copyFileSync(wasm, `dist/${wasm.split('/').pop()}`);
}
// The eager parity probe: plain Python files the CLI and the server run by path in the user's Python.
mkdirSync('dist/python', { recursive: true });
for (const f of readdirSync('server/python')) if (f.endsWith('.py')) copyFileSync(`server/python/${f}`, `dist/python/${f}`);
// The parity panel's chart library, served to the webview from media/ (its only resource root).
mkdirSync('media/vendor', { recursive: true });
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) copyFileSync(`node_modules/uplot/dist/${f}`, `media/vendor/${f}`);

await Promise.all([
  build({ ...common, entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js', external: ['vscode'] }),
  build({ ...common, entryPoints: ['server/src/lsp/main.ts'], outfile: 'dist/server.js', external: nativeExternals }),
  build({ ...common, entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js', external: nativeExternals }),
  // `tensorport mcp`, loaded by dist/cli.js only for that command: the MCP SDK and zod are most of its
  // size, and every other command would parse them at start. It announces the package's version.
  build({ ...common, entryPoints: ['server/src/cli/mcpCommand.ts'], outfile: 'dist/mcp.js', external: nativeExternals,
    define: { TENSORPORT_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) } }),
  // The language server's header-reading worker threads.
  build({ ...common, entryPoints: ['server/src/index/readWorker.ts'], outfile: 'dist/readWorker.js', external: nativeExternals }),
  // The converter's kernel thread (transposes, casts), started by the CLI and the server from dist/.
  build({ ...common, entryPoints: ['server/src/mapping/convert/kernelWorker.ts'], outfile: 'dist/kernelWorker.js' }),
  // The parity runner's worker thread, started by the CLI and the server from dist/.
  build({ ...common, entryPoints: ['server/src/parity/parityWorker.ts'], outfile: 'dist/parityWorker.js', external: nativeExternals }),
]);
