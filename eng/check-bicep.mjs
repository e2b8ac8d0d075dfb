#!/usr/bin/env node
// Syntax check for every .bicep file in the repository (CI and eng/test.sh): parses with tree-sitter-bicep and
// fails with file:line:column for each ERROR or MISSING node. Not a type check and no ARM output: the real Bicep
// compiler does not install on this machine's feeds. Usage: node eng/check-bicep.mjs [file-or-dir ...]
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Resolve from the repository root, so a symlinked node_modules (worktrees) works like an installed one.
const require = createRequire(join(root, 'package.json'));
const Parser = require('tree-sitter');
const Bicep = require('tree-sitter-bicep');

const skipDirs = new Set(['node_modules', '.git', 'bin', 'obj', 'artifacts', '.azure']);

function collect(path, out) {
  const stat = statSync(path);
  if (stat.isFile()) {
    if (path.endsWith('.bicep')) out.push(path);
    return out;
  }
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && skipDirs.has(entry.name)) continue;
    collect(join(path, entry.name), out);
  }
  return out;
}

function problems(node, found = []) {
  // hasError is false for a subtree without ERROR/MISSING nodes: skip it instead of walking every leaf.
  if (!node.hasError && !node.isMissing) return found;
  if (node.type === 'ERROR' || node.isMissing) {
    found.push(node);
    if (node.type === 'ERROR') return found;
  }
  for (const child of node.children) problems(child, found);
  return found;
}

const targets = process.argv.length > 2 ? process.argv.slice(2).map((p) => resolve(p)) : [root];
const files = targets.flatMap((t) => collect(t, [])).sort();
if (files.length === 0) {
  console.error('check-bicep: no .bicep files found');
  process.exit(2);
}

const parser = new Parser();
parser.setLanguage(Bicep);
let failures = 0;
for (const file of files) {
  const source = readFileSync(file, 'utf8');
  // The Node binding's default read buffer truncates long inputs; size it to the file.
  const tree = parser.parse(source, undefined, { bufferSize: Buffer.byteLength(source) * 2 + 1024 });
  for (const node of problems(tree.rootNode)) {
    const { row, column } = node.startPosition;
    const what = node.isMissing ? `missing ${node.type}` : `syntax error near '${source.slice(node.startIndex, node.startIndex + 40).split('\n')[0]}'`;
    console.error(`${relative(process.cwd(), file)}:${row + 1}:${column + 1}: ${what}`);
    failures++;
  }
}

console.log(`check-bicep: ${files.length} file(s), ${failures} problem(s)`);
process.exit(failures === 0 ? 0 : 1);
