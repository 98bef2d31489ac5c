// The pinned p5 builds may be served in ASCII (assets/ascii.go writes
// every character beyond ASCII as a \u escape) only if each such character
// is where the escape means the same: in a string, a regular expression,
// an identifier, an untagged template or a block comment. Elsewhere
// (white space between tokens, a line comment, a tagged template's raw
// text) the escaped build would be another program, or none. A p5 upgrade
// that puts a character there fails here, with where it is.
//   node --test assets/
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const acorn = require('acorn');

const allowed = new Set(['string', 'regexp', 'name', 'privateId', 'template', 'Block']);

// contexts returns, for each character beyond ASCII in src, where it is:
// the label of the token or the kind of comment around it ("between" when
// neither), and for a template chunk whether its template is tagged.
function contexts(src) {
  const comments = [];
  const spans = [];
  const stack = []; // {template, tagged} or {brace}
  let prev = null;
  for (const tok of acorn.tokenizer(src, { ecmaVersion: 'latest', onComment: comments })) {
    const label = tok.type.label;
    let tagged = false;
    if (label === '`') {
      const top = stack[stack.length - 1];
      if (top && top.template) {
        stack.pop();
      } else {
        const p = prev && prev.type.label;
        stack.push({ template: true, tagged: p === 'name' || p === ')' || p === ']' || p === '`' || p === 'this' || p === 'super' });
      }
    } else if (label === '${' || label === '{') {
      stack.push({ brace: true });
    } else if (label === '}') {
      stack.pop();
    } else if (label === 'template' || label === 'invalidTemplate') {
      tagged = stack[stack.length - 1].tagged;
    }
    spans.push({ start: tok.start, end: tok.end, label, tagged });
    prev = tok;
  }
  for (const c of comments) spans.push({ start: c.start, end: c.end, label: c.type, tagged: false });
  spans.sort((a, b) => a.start - b.start);
  const found = [];
  let s = 0;
  for (let i = 0; i < src.length; i++) {
    if (src.charCodeAt(i) < 0x80) continue;
    while (s < spans.length && spans[s].end <= i) s++;
    const span = s < spans.length && spans[s].start <= i ? spans[s] : { label: 'between', tagged: false };
    found.push({ at: i, label: span.label, tagged: span.tagged });
  }
  return found;
}

test('a character in a tagged template or between tokens is found', () => {
  const src = 'x=String.raw`é`;y=`ü`;z="ö"/*ß*/;//ç\nw=/ñ/;\u00a0v=1;this.ε=2';
  const got = contexts(src).map((c) => src[c.at] + ':' + c.label + (c.tagged ? '(tagged)' : ''));
  assert.deepEqual(got, ['é:template(tagged)', 'ü:template', 'ö:string', 'ß:Block', 'ç:Line', 'ñ:regexp',
    '\u00a0:between', 'ε:name']);
});

for (const major of ['1', '2']) {
  test(`p5 ${major}.x has its characters beyond ASCII only where an escape means the same`, () => {
    const file = path.join(__dirname, 'p5', `p5-${major}.min.js`);
    const src = fs.readFileSync(file, 'utf8');
    const found = contexts(src);
    assert.ok(found.length > 0, `${file} has no character beyond ASCII: nothing to check`);
    const bad = found.filter((c) => !allowed.has(c.label) || c.tagged)
      .map((c) => `${c.label}${c.tagged ? ' (tagged)' : ''} at ${c.at}: ${JSON.stringify(src.slice(c.at - 30, c.at + 10))}`);
    assert.deepEqual(bad, []);
  });
}
