#!/usr/bin/env node
// The language server for any LSP client (Neovim, Helix, Emacs…): `tensorport-lsp --stdio`.
require('../dist/server.js');
