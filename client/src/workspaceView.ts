/**
 * The Tensor Port view in the Explorer: the workspace's checkpoints and mapping files with their
 * status (from the server), and the model diff of two checkpoints (select one, compare with another).
 */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import {
  CHECKPOINT_DIALOG_EXTENSIONS,
  DIFF_REQUEST, DiffParams, DiffResult, OPEN_CHECKPOINT_COMMAND, StatusParams, isRemoteName, WORKSPACE_REQUEST, WorkspaceEntry, WorkspaceResult,
} from '../../server/src/lsp/protocol';

type Section = { section: 'checkpoint' | 'mapping'; count: number };
/** `newest`: the run's latest step, the only one that starts open (a long run has dozens). */
type Group = { group: NonNullable<WorkspaceEntry['group']>; entries: WorkspaceEntry[]; newest: boolean };
type Node = Section | Group | WorkspaceEntry;

/** Training steps of one run newest first (runs by folder), then hub snapshots by name. */
function groupOrder(a: Group, b: Group): number {
  const ka = a.group.kind === 'hub-snapshot' ? 1 : 0, kb = b.group.kind === 'hub-snapshot' ? 1 : 0;
  return ka - kb || a.group.where.localeCompare(b.group.where) || b.group.step - a.group.step || a.group.label.localeCompare(b.group.label);
}

class WorkspaceTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private entries: WorkspaceEntry[] = [];

  constructor(private readonly getClient: () => LanguageClient | undefined) {}

  async refresh(): Promise<void> {
    const client = this.getClient();
    if (!client?.isRunning()) return;
    this.entries = (await client.sendRequest<WorkspaceResult>(WORKSPACE_REQUEST)).entries;
    this.changed.fire();
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      return (['mapping', 'checkpoint'] as const).map((section) => ({ section, count: this.entries.filter((e) => e.kind === section).length }));
    }
    if ('entries' in node) return node.entries;
    if (!('section' in node)) return [];
    const inSection = this.entries.filter((e) => e.kind === node.section);
    const groups = new Map<string, Group>();
    for (const e of inSection) {
      if (!e.group) continue;
      const g = groups.get(e.group.key) ?? { group: e.group, entries: [], newest: false };
      g.entries.push(e);
      groups.set(e.group.key, g);
    }
    const latest = new Map<string, number>();
    for (const { group: g } of groups.values()) if (g.kind === 'training-step') latest.set(g.where, Math.max(latest.get(g.where) ?? -1, g.step));
    for (const g of groups.values()) g.newest = g.group.kind === 'training-step' && latest.get(g.group.where) === g.group.step;
    return [...inSection.filter((e) => !e.group), ...[...groups.values()].sort(groupOrder)];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('section' in node) {
      const item = new vscode.TreeItem(node.section === 'mapping' ? 'Mappings' : 'Checkpoints', vscode.TreeItemCollapsibleState.Expanded);
      item.description = String(node.count);
      return item;
    }
    if ('entries' in node) {
      const item = new vscode.TreeItem(node.group.label, node.newest ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${node.group.where} · ${node.entries.length} file${node.entries.length === 1 ? '' : 's'}`;
      item.iconPath = new vscode.ThemeIcon(node.group.kind === 'hub-snapshot' ? 'cloud-download' : 'history');
      item.contextValue = node.group.kind;
      item.id = `group:${node.group.key}`;
      return item;
    }
    if (isRemoteName(node.path)) {
      // A remote checkpoint an open mapping names: no file here, opened in the viewer by its name.
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.description = node.detail;
      item.tooltip = `${node.path}\n${node.detail}\n(read header-only)`;
      item.iconPath = new vscode.ThemeIcon(node.errors ? 'error' : 'cloud');
      item.contextValue = node.kind;
      item.command = { title: 'Open', command: OPEN_CHECKPOINT_COMMAND, arguments: [node.path] };
      return item;
    }
    const uri = vscode.Uri.file(node.path);
    const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.None);
    item.label = node.label;
    item.description = node.detail;
    item.tooltip = `${node.path}\n${node.detail}`;
    item.iconPath = node.errors ? new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'))
      : node.warnings ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
        : node.infos ? new vscode.ThemeIcon('info', new vscode.ThemeColor('problemsInfoIcon.foreground'))
          : new vscode.ThemeIcon(node.kind === 'mapping' ? 'pass' : 'database');
    item.contextValue = node.kind;
    item.command = { title: 'Open', command: 'vscode.open', arguments: [uri] };
    return item;
  }
}

export function registerWorkspaceView(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined, onStatus: vscode.Event<StatusParams>): void {
  const tree = new WorkspaceTree(getClient);
  context.subscriptions.push(vscode.window.registerTreeDataProvider('tensorport.workspace', tree));
  let selected: string | undefined;
  const refresh = () => void tree.refresh().catch(() => undefined);
  context.subscriptions.push(
    vscode.commands.registerCommand('tensorport.refreshWorkspace', refresh),
    vscode.workspace.onDidSaveTextDocument((d) => { if (d.fileName.endsWith('.tpmap')) refresh(); }),
    vscode.commands.registerCommand('tensorport.selectForCompare', (arg?: WorkspaceEntry | vscode.Uri) => {
      selected = toName(arg) ?? vscode.window.activeTextEditor?.document.uri.fsPath;
      void vscode.commands.executeCommand('setContext', 'tensorport.compareSelected', selected !== undefined);
    }),
    vscode.commands.registerCommand('tensorport.compareWithSelected', async (arg?: WorkspaceEntry | vscode.Uri) => {
      const other = toName(arg);
      if (!selected || !other) return;
      await showDiff(getClient, selected, other);
    }),
    vscode.commands.registerCommand('tensorport.diffCheckpoints', async () => {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: true, openLabel: 'Compare', filters: { Checkpoints: [...CHECKPOINT_DIALOG_EXTENSIONS] } });
      if (picked?.length === 2) await showDiff(getClient, picked[0].fsPath, picked[1].fsPath);
      else if (picked) void vscode.window.showWarningMessage('Tensor Port: pick exactly two checkpoints to compare.');
    }),
  );
  context.subscriptions.push(onStatus(refresh));
}

/** A file's path, or a remote checkpoint's name (the server reads either). */
function toName(arg?: WorkspaceEntry | vscode.Uri): string | undefined {
  if (!arg) return undefined;
  return arg instanceof vscode.Uri ? arg.fsPath : arg.path;
}

async function showDiff(getClient: () => LanguageClient | undefined, a: string, b: string): Promise<void> {
  const client = getClient();
  if (!client) return;
  const r = await client.sendRequest<DiffResult>(DIFF_REQUEST, { a, b } satisfies DiffParams);
  if (!r.ok) {
    void vscode.window.showErrorMessage(`Tensor Port: ${r.message}`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument({ language: 'diff', content: r.text });
  await vscode.window.showTextDocument(doc, { preview: true });
}
