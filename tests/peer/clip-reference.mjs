// transformers.js's answers on the clip-tiny fixture, for the server's CLIP parity tests:
// zero-shot-image-classification probabilities (hypothesis template '{}', so labels are scored as
// written) for each image of tests/fixtures/parity/clip-tiny/zero_shot_cases.json, and the CLIP
// tokenizer's ids for its texts; and the same for texts over 77 tokens, which the pipeline truncates.
//
//   node tests/peer/clip-reference.mjs            writes tests/fixtures/parity/clip-tiny/transformersjs.json
//   node tests/peer/clip-reference.mjs --check    compares with that file instead (exit 1 when they differ)
//
// The images are already 224 x 224, so transformers.js (sharp) does not resize them.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { AutoTokenizer, env, pipeline, RawImage } from '@huggingface/transformers';

import { repoRoot, versions } from './lib.mjs';

const packageDir = path.join(repoRoot, 'tests', 'fixtures', 'clip-tiny');
const casesDir = path.join(repoRoot, 'tests', 'fixtures', 'parity', 'clip-tiny');
const outFile = path.join(casesDir, 'transformersjs.json');
const check = process.argv.includes('--check');

env.allowRemoteModels = false;
env.useFSCache = false;
env.localModelPath = '/';

const cases = JSON.parse(readFileSync(path.join(casesDir, 'zero_shot_cases.json'), 'utf8'));
const tokenizer = await AutoTokenizer.from_pretrained(packageDir);
const tokenizerCases = cases.tokenizer_texts.map((text) => ({ text, ids: Array.from(tokenizer(text).input_ids.data, Number) }));

const classify = await pipeline('zero-shot-image-classification', packageDir, { dtype: 'fp32' });
const images = [];
for (const file of cases.images) {
    const image = await RawImage.read(path.join(casesDir, file));
    if (image.width !== 224 || image.height !== 224) throw new Error(`${file} is ${image.width}x${image.height}; expected 224x224`);
    const ranked = await classify(image, cases.labels, { hypothesis_template: '{}' });
    // The pipeline sorts by score; keep the labels' order.
    const scores = cases.labels.map((label) => ranked.find((r) => r.label === label).score);
    images.push({ image: file, scores });
}

// Texts over 77 tokens: the pipeline tokenizes with { padding: true, truncation: true }, which cuts
// the ids (special tokens included) at model_max_length. The ids as the pipeline makes them, and
// the probabilities of a label set with such a text on the first image.
const longTexts = [
    Array.from({ length: 75 }, () => 'red').join(' '),
    Array.from({ length: 76 }, () => 'red').join(' '),
    Array.from({ length: 40 }, (_, i) => ['a red square', 'left of', 'a blue circle'][i % 3]).join(' and '),
];
const truncatedIds = longTexts.map((text) => ({ text, ids: Array.from(tokenizer([text], { padding: true, truncation: true }).input_ids.data, Number) }));
const longLabels = [longTexts[2], 'a red square', 'a blue circle'];
const firstImage = await RawImage.read(path.join(casesDir, cases.images[0]));
const longRanked = await classify(firstImage, longLabels, { hypothesis_template: '{}' });
const truncation = { image: cases.images[0], labels: longLabels, scores: longLabels.map((l) => longRanked.find((r) => r.label === l).score), tokenizer: truncatedIds };

const result = { versions: versions(), labels: cases.labels, images, tokenizer: tokenizerCases, truncation };
if (!check) {
    writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
    console.log(`wrote ${outFile}`);
} else {
    const committed = JSON.parse(readFileSync(outFile, 'utf8'));
    let worst = 0;
    committed.images.forEach((c, i) => c.scores.forEach((s, j) => { worst = Math.max(worst, Math.abs(s - images[i].scores[j])); }));
    committed.truncation.scores.forEach((s, j) => { worst = Math.max(worst, Math.abs(s - truncation.scores[j])); });
    const idsEqual = JSON.stringify(committed.tokenizer) === JSON.stringify(tokenizerCases)
        && JSON.stringify(committed.truncation.tokenizer) === JSON.stringify(truncatedIds);
    const ok = worst <= 1e-6 && idsEqual;
    console.log(`clip-tiny: transformers.js probabilities within ${worst.toExponential(2)} of ${path.relative(repoRoot, outFile)}, token ids ${idsEqual ? 'equal' : 'DIFFER'}: ${ok ? 'PASS' : 'FAIL'}`);
    process.exit(ok ? 0 : 1);
}
