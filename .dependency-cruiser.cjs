/**
 * The layers of ARCHITECTURE.md, enforced in `npm test` (`npm run deps`): every import points down,
 * nothing imports in a cycle, only lsp/ speaks the protocol, nothing under server/ knows VS Code, and
 * the client sees nothing of the server but the shared protocol types.
 *
 *   formats < index < source < mapping (automap, convert) < scripts, parity < tools < cli, lsp
 */
const LAYERS = ['formats', 'index', 'source', 'mapping', 'scripts', 'parity', 'tools', 'cli', 'lsp'];
/** What each layer may not import: everything above it (scripts and parity are siblings, as are cli and lsp). */
const ABOVE = {
  formats: ['index', 'source', 'mapping', 'scripts', 'parity', 'tools', 'cli', 'lsp'],
  index: ['source', 'mapping', 'scripts', 'parity', 'tools', 'cli', 'lsp'],
  source: ['mapping', 'scripts', 'parity', 'tools', 'cli', 'lsp'],
  mapping: ['scripts', 'parity', 'tools', 'cli', 'lsp'],
  scripts: ['parity', 'tools', 'cli', 'lsp'],
  parity: ['scripts', 'tools', 'cli', 'lsp'],
  tools: ['cli', 'lsp'],
  cli: ['lsp'],
  lsp: ['cli'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one; split the shared part out, below both.',
      from: { path: '^(server|client)/src' },
      to: { circular: true },
    },
    ...LAYERS.map((layer) => ({
      name: `${layer}-imports-down`,
      severity: 'error',
      comment: `server/src/${layer}/ may import only the layers below it (ARCHITECTURE.md).`,
      from: { path: `^server/src/${layer}/` },
      to: { path: `^server/src/(${ABOVE[layer].join('|')})/` },
    })),
    {
      name: 'only-lsp-speaks-lsp',
      severity: 'error',
      comment: 'The core takes and returns plain data; protocol types live in server/src/lsp/.',
      from: { path: '^server/src/', pathNot: '^server/src/lsp/' },
      to: { path: 'vscode-languageserver' },
    },
    {
      name: 'server-knows-no-vscode',
      severity: 'error',
      comment: 'The server runs in any editor (and the CLI in none).',
      from: { path: '^server/' },
      to: { path: '^vscode$|node_modules/@types/vscode/', dependencyTypes: ['npm', 'npm-dev', 'core', 'unknown', 'undetermined', 'type-only', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'client-sees-only-the-protocol',
      severity: 'error',
      comment: 'The client is glue: it talks to the server over LSP and shares only its message types.',
      from: { path: '^client/' },
      to: { path: '^server/', pathNot: '^server/src/lsp/protocol\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(test|media|dist|out)/' },
  },
};
