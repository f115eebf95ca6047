#!/usr/bin/env node
// Syntax check for the PowerShell files of this repository without pwsh:
// parses every .ps1/.psm1/.psd1 with the tree-sitter PowerShell grammar
// (the .wasm shipped in the tree-sitter-powershell npm package, run by
// web-tree-sitter) and lists every ERROR or MISSING node with its line.
//
//   node parse.js [FILE|DIR ...]    default: the integrations/powershell tree
//
// Exit 0: every file parsed cleanly; 1: syntax errors (listed on stdout);
// 2: the check itself could not run (missing grammar, unreadable file).
'use strict';

// The grammar is a 1 MB WebAssembly module: V8's optimizing tier would spend
// ~15 s of CPU compiling it for a run that parses a few files in milliseconds.
// The baseline compiler alone is plenty.
require('v8').setFlagsFromString('--liftoff-only');

const fs = require('fs');
const path = require('path');
const { Parser, Language } = require('web-tree-sitter');

const EXTENSIONS = new Set(['.ps1', '.psm1', '.psd1']);
const SKIP_DIRS = new Set(['node_modules', '.git']);

function collect(target, out) {
  const st = fs.statSync(target);
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(target).sort()) {
      if (SKIP_DIRS.has(name)) continue;
      collect(path.join(target, name), out);
    }
  } else if (EXTENSIONS.has(path.extname(target).toLowerCase())) {
    out.push(target);
  }
}

// problems walks the tree and returns one line per ERROR / MISSING node,
// without descending into an ERROR node (its children repeat the same span).
function problems(tree, source) {
  const lines = source.split('\n');
  const found = [];
  const cursor = tree.walk();
  let descend = true;
  for (;;) {
    const node = cursor.currentNode;
    let report = null;
    if (node.isMissing) {
      report = `missing ${JSON.stringify(node.type)}`;
    } else if (node.isError) {
      report = 'syntax error';
    }
    if (report) {
      const row = node.startPosition.row;
      const text = (lines[row] || '').trim();
      found.push({ line: row + 1, column: node.startPosition.column + 1, what: report, text });
    }
    descend = !(node.isError);
    if (descend && node.hasError && cursor.gotoFirstChild()) continue;
    if (cursor.gotoNextSibling()) continue;
    let up = false;
    while (cursor.gotoParent()) {
      if (cursor.gotoNextSibling()) { up = true; break; }
    }
    if (!up) break;
  }
  return found;
}

async function main() {
  const args = process.argv.slice(2);
  const targets = args.length ? args : [path.resolve(__dirname, '..')];
  const files = [];
  for (const t of targets) collect(path.resolve(t), files);
  if (files.length === 0) {
    console.error('parse.js: no .ps1/.psm1/.psd1 files under ' + targets.join(' '));
    return 2;
  }

  await Parser.init();
  const wasm = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);

  let bad = 0;
  for (const file of files) {
    let source = fs.readFileSync(file, 'utf8');
    if (source.charCodeAt(0) === 0xfeff) source = source.slice(1); // UTF-8 BOM
    const tree = parser.parse(source);
    const relative = path.relative(process.cwd(), file);
    const rel = relative && !relative.startsWith('..') ? relative : file;
    if (!tree.rootNode.hasError) {
      console.log(`ok    ${rel}`);
      tree.delete();
      continue;
    }
    const found = problems(tree, source);
    if (found.length === 0) found.push({ line: 1, column: 1, what: 'syntax error', text: '' });
    bad++;
    console.log(`FAIL  ${rel}`);
    for (const p of found) {
      console.log(`  ${rel}:${p.line}:${p.column}: ${p.what}: ${p.text}`);
    }
    tree.delete();
  }
  console.log(`${files.length} file(s) parsed, ${bad} with syntax errors`);
  return bad ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => { console.error('parse.js: ' + (err && err.stack || err)); process.exitCode = 2; },
);
