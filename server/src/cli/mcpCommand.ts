/**
 * `tensorport mcp [--allow DIR]… [--allow-commands]`: a Model Context Protocol server on stdin/stdout
 * for coding agents, in the folder it is started in (the workspace). It reads and writes only inside
 * its roots: that folder, each --allow DIR and the client's roots. Runs until the client closes stdin.
 * stdout carries only the protocol; notices go to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { disposeParityWorkers } from '../parity/engine';
import { parseCommandArgs, usePython } from './args';
import { MCP } from './commandSpecs';
import { EXIT, UsageError } from './exit';
import { createMcpServer } from './mcp/mcpServer';
import { fixedRoots } from './mcp/serverRoots';

declare const TENSORPORT_VERSION: string | undefined;

export async function runMcp(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, MCP);
  usePython(parsed.values.python);
  if (parsed.positionals.length) throw new UsageError('mcp takes no files: it serves the folder it is started in (tensorport mcp --help)');
  const root = process.cwd();
  let roots: string[];
  try {
    roots = await fixedRoots(root, parsed.values.allow ?? []);
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (tensorport mcp --help)`);
  }
  const { server, idle } = createMcpServer({ root, roots, allowCommands: parsed.values['allow-commands'], version: typeof TENSORPORT_VERSION === 'string' ? TENSORPORT_VERSION : '0.0.0' });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  await closed;
  // Requests read before stdin ended are still answered.
  await new Promise((resolve) => setImmediate(resolve));
  await idle();
  await server.close();
  // A warm parity worker would keep the process alive after the client left.
  disposeParityWorkers();
  return EXIT.ok;
}
