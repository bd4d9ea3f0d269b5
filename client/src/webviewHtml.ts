/**
 * The HTML shell of Tensor Port's webviews: strict CSP (no inline script, scripts by nonce, styles and
 * scripts only from media/), theme colours via VS Code's CSS variables.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, opts: { title: string; script: string; style: string; extraScripts?: string[]; extraStyles?: string[] }): string {
  const nonce = randomBytes(16).toString('base64');
  const media = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', f));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}'; img-src ${webview.cspSource} data:;">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${[...(opts.extraStyles ?? []), opts.style].map((f) => `<link rel="stylesheet" href="${media(f)}">`).join('\n')}
<title>${opts.title.replace(/[<>&"]/g, '')}</title>
</head>
<body>
<div id="app" role="main"></div>
${[...(opts.extraScripts ?? []), opts.script].map((f) => `<script nonce="${nonce}" src="${media(f)}"></script>`).join('\n')}
</body>
</html>`;
}

export function mediaRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'media')];
}
