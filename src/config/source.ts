/**
 * The experiment file as parsed YAML, kept alongside its text so that any problem found
 * later (schema, sweep cell, semantic check) can be pointed at `file:line:col`.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { ConfigError, type Diagnostic } from '../errors.js';
import type { PathSegment } from './validate.js';

export interface SourceFile {
  file: string;
  text: string;
  doc: Document;
  lines: LineCounter;
}

export function readSource(file: string): SourceFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([{ file, line: 0, col: 0, message: code === 'ENOENT' ? 'no such file' : String(err) }], {
      hint: 'Check the path of the experiment file.',
    });
  }
  return parseSource(file, text);
}

export function parseSource(file: string, text: string): SourceFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = { file, text, doc, lines };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => diagnosticAt(source, e.pos[0], e.pos[1], e.message.split('\n')[0] ?? e.message)),
    );
  }
  if (!isMap(doc.contents)) {
    throw new ConfigError([diagnosticAt(source, 0, 1, 'an experiment file must be a YAML mapping (key: value lines)')]);
  }
  return source;
}

/**
 * The document as plain data. The YAML library refuses aliases that expand to far more
 * data than the file holds (a "billion laughs" file); that becomes a positioned error
 * at the first alias rather than a crash.
 */
export function toPlainData(source: SourceFile): unknown {
  try {
    return source.doc.toJS();
  } catch (err) {
    let first: Node | undefined;
    visit(source.doc, {
      Alias(_key, node) {
        first = node;
        return visit.BREAK;
      },
    });
    const [start, end] = first?.range ?? [0, 1];
    const why = err instanceof ReferenceError && /alias/i.test(err.message)
      ? 'YAML aliases here expand to too much data (a resource limit of the parser); write the values out instead of aliasing them'
      : `the YAML cannot be read as data: ${(err as Error).message}`;
    throw new ConfigError([diagnosticAt(source, start, first ? end : 1, why)]);
  }
}

function diagnosticAt(source: SourceFile, start: number, end: number, message: string): Diagnostic {
  const { line, col } = source.lines.linePos(start);
  const text = source.text.split(/\r?\n/)[line - 1] ?? '';
  const length = Math.max(1, Math.min(end - start, text.length - col + 1));
  return { file: source.file, line, col, message, source: text, length };
}

/** The YAML node at a path, or the deepest existing ancestor when the path does not exist. */
function findNode(source: SourceFile, path: PathSegment[], at: 'key' | 'value'): Node | undefined {
  let node: unknown = source.doc.contents;
  let found = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return found;
      if (last && at === 'key') return pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return found;
    }
    if (!node || !(node as Node).range) return found;
    found = node as Node;
  }
  return found;
}

/** A diagnostic pointing at `path` in the file (key or value), falling back to the nearest ancestor. */
export function diagnosticForPath(
  source: SourceFile,
  path: PathSegment[],
  at: 'key' | 'value',
  message: string,
): Diagnostic {
  const node = findNode(source, path, at);
  const range = node?.range;
  if (!range) return diagnosticAt(source, 0, 1, message);
  // A collection's range spans its whole body: underline only its first character.
  const end = isMap(node) || isSeq(node) ? range[0] + 1 : range[1];
  return diagnosticAt(source, range[0], end, message);
}

/** `file:line:col: message`, then the source line and a caret under the place. */
export function formatDiagnostic(d: Diagnostic, color = false): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[39m` : s);
  let out = `${where}: ${red('error')}: ${d.message}`;
  if (d.source !== undefined && d.line > 0) {
    const gutter = String(d.line).length;
    out += `\n ${' '.repeat(gutter)} |\n ${d.line} | ${d.source}\n ${' '.repeat(gutter)} | ${' '.repeat(Math.max(0, d.col - 1))}${red('^'.repeat(d.length ?? 1))}`;
  }
  return out;
}
