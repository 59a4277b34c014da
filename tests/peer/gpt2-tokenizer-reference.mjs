// transformers.js's ids for the real GPT-2 byte-level BPE tokenizer of Xenova/vit-gpt2-image-captioning
// (tests/data/hf-reference/vit-gpt2-image-captioning/tokenizer.json, vocabulary 50,257, 50,000
// merges), for the server's test that a package whose tokenizer is tokenizer.json alone (no
// vocab.json / merges.txt) encodes as transformers.js does.
//
//   node tests/peer/gpt2-tokenizer-reference.mjs            writes tests/fixtures/gpt2-tokenizer/transformersjs.json
//   node tests/peer/gpt2-tokenizer-reference.mjs --check    compares with that file instead (exit 1 when they differ)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { AutoTokenizer, env } from '@huggingface/transformers';

import { repoRoot, versions } from './lib.mjs';

const tokenizerDir = path.join(repoRoot, 'tests', 'data', 'hf-reference', 'vit-gpt2-image-captioning');
const outFile = path.join(repoRoot, 'tests', 'fixtures', 'gpt2-tokenizer', 'transformersjs.json');
const check = process.argv.includes('--check');

env.allowRemoteModels = false;
env.useFSCache = false;
env.localModelPath = '/';

const texts = [
    'a man riding a wave on top of a surfboard',
    'A red square is to the left of a blue circle.',
    "It's 3 o'clock, isn't it?? (yes)",
    'naïve café – Straße, ÉCOLE',
    '日本語のテキスト and 中文',
    'emoji 🙂👍🏽 #tag @user',
    '  multiple   spaces\tand\nnewlines  ',
    "don't we'll they're I'm you've he'd",
    'numbers 12345 and 3.14159',
    '<|endoftext|> is a special token',
    // Runs of whitespace: GPT-2's pre-tokenizer keeps a run's last space for the next word (\s+(?!\S)).
    'tab\tseparated\t\twords\t',
    'double  spaces  between  words',
    'trailing spaces   ',
    'line one\nline two\n\n\nline three\r\n',
    '\t leading tab and space',
    'mixed \t \n whitespace  runs',
    'indented\n    code block\n\tand a tab',
];
const tokenizer = await AutoTokenizer.from_pretrained(tokenizerDir);
const cases = texts.map((text) => ({ text, ids: Array.from(tokenizer(text).input_ids.data, Number) }));
const result = { versions: versions(), tokenizer: 'tests/data/hf-reference/vit-gpt2-image-captioning/tokenizer.json', cases };
if (!check) {
    writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
    console.log(`wrote ${outFile}`);
} else {
    const committed = JSON.parse(readFileSync(outFile, 'utf8'));
    const ok = JSON.stringify(committed.cases) === JSON.stringify(cases);
    console.log(`gpt2 tokenizer: transformers.js ids ${ok ? 'equal' : 'DIFFER from'} ${path.relative(repoRoot, outFile)}: ${ok ? 'PASS' : 'FAIL'}`);
    process.exit(ok ? 0 : 1);
}
