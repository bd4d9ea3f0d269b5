/**
 * Names of remote checkpoints: `hf://OWNER/REPO[@REVISION][/PATH]` (the Hugging Face Hub) and
 * `https://…` (`http://` only to the machine itself). No imports but node:path's posix half, so every
 * layer can ask "is this remote?" before it treats a string as a local path.
 */
import { posix } from 'node:path';

export type RemoteName =
  | { kind: 'hf'; repo: string; revision: string; revisionGiven: boolean; file?: string }
  | { kind: 'url'; url: URL };

const HF = /^hf:\/\/([^/@\s]+)\/([^/@\s]+)(?:@([^/\s]+))?(?:\/(.*))?$/;
const URL_SCHEME = /^https?:\/\//i;

/** Whether `p` names a remote checkpoint (by its scheme alone; whether it is well-formed is parseRemote's). */
export function isRemote(p: string): boolean {
  return p.startsWith('hf://') || URL_SCHEME.test(p);
}

/** A path made absolute, leaving remote names as they are (path.resolve would make `hf://x` a folder). */
export function absoluteName(p: string, resolve: (p: string) => string): string {
  return isRemote(p) ? p : resolve(p);
}

/** The parsed name, or a one-line reason why it is not one. */
export function parseRemote(p: string): RemoteName | string {
  if (p.startsWith('hf://')) {
    const m = HF.exec(p);
    if (!m) return 'a Hub checkpoint is named hf://OWNER/REPO[@REVISION][/PATH]';
    let revision = 'main';
    if (m[3] !== undefined) {
      try { revision = decodeURIComponent(m[3]); } catch { return `revision "${m[3]}" is not valid URL encoding`; }
    }
    const file = m[4] ? posix.normalize(m[4]) : undefined;
    if (file !== undefined && (file.startsWith('..') || file.startsWith('/'))) return `path "${m[4]}" leaves the repository`;
    return { kind: 'hf', repo: `${m[1]}/${m[2]}`, revision, revisionGiven: m[3] !== undefined, file: file === '.' ? undefined : file };
  }
  let url: URL;
  try { url = new URL(p); } catch { return 'not a valid URL'; }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) return 'plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost): use https://';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `unsupported scheme ${url.protocol}`;
  return { kind: 'url', url };
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The name of `hf://OWNER/REPO@REVISION/PATH` (a revision with `/` encoded, as users write it). */
export function hfName(repo: string, revision: string, file: string, showRevision = true): string {
  return `hf://${repo}${showRevision ? `@${encodeURIComponent(revision)}` : ''}/${file}`;
}

/**
 * A file beside a remote one (a shard beside its index): same repo and revision, or the same URL
 * folder. `rel` has been checked not to leave the folder.
 */
export function remoteSibling(name: string, rel: string): string {
  const parsed = parseRemote(name);
  if (typeof parsed === 'string') return name;
  if (parsed.kind === 'hf') {
    const dir = parsed.file ? posix.dirname(parsed.file) : '.';
    return hfName(parsed.repo, parsed.revision, posix.normalize(posix.join(dir, rel)), parsed.revisionGiven);
  }
  const encoded = rel.split('/').map(encodeURIComponent).join('/');
  return new URL(encoded, parsed.url).href;
}
