// transformers.js's greedy captions of the vit-gpt2-tiny fixture with each graph variant it carries
// (dtype fp32: onnx/*.onnx; dtype q8: onnx/*_quantized.onnx), for the server's variant tests:
// the server with CaptionService:Model:Dtype q8 must give transformers.js's q8 captions.
// Images: the first VARIANT_IMAGES_PER_SET world-*.png of each ShapeWorld set under tests/data/shapeworld
// (already 100 x 100, the model's input size, so neither engine resizes).
//
//   node tests/peer/variant-reference.mjs            writes tests/fixtures/parity/vit-gpt2-tiny/transformersjs-variants.json
//   node tests/peer/variant-reference.mjs --check    compares with that file instead (exit 1 when they differ)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { captionOne, loadCaptioner, readImages, repoRoot, shapeworldImages, versions } from './lib.mjs';

const perSet = 5;
const dtypes = ['fp32', 'q8'];
const packageDir = path.join(repoRoot, 'tests', 'fixtures', 'vit-gpt2-tiny');
const outFile = path.join(repoRoot, 'tests', 'fixtures', 'parity', 'vit-gpt2-tiny', 'transformersjs-variants.json');
const check = process.argv.includes('--check');

const bySet = new Map();
for (const image of shapeworldImages()) {
    const set = image.key.split('/')[0];
    if (!bySet.has(set)) bySet.set(set, []);
    if (bySet.get(set).length < perSet) bySet.get(set).push(image);
}
const images = readImages([...bySet.values()].flat());

const captions = {};
for (const dtype of dtypes) {
    const peer = await loadCaptioner(packageDir, { threads: 2, dtype });
    captions[dtype] = [];
    for (const image of images) captions[dtype].push((await captionOne(peer, image)).caption);
}

const result = { versions: versions(), images: images.map((i) => i.key), captions };
const agree = captions.fp32.filter((c, i) => c === captions.q8[i]).length;
console.log(`vit-gpt2-tiny: q8 captions equal fp32's for ${agree} of ${images.length} images (transformers.js)`);
if (!check) {
    writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
    console.log(`wrote ${outFile}`);
} else {
    const committed = JSON.parse(readFileSync(outFile, 'utf8'));
    const ok = JSON.stringify(committed.images) === JSON.stringify(result.images)
        && JSON.stringify(committed.captions) === JSON.stringify(result.captions);
    console.log(`vit-gpt2-tiny variants: transformers.js captions ${ok ? 'equal' : 'DIFFER from'} ${path.relative(repoRoot, outFile)}: ${ok ? 'PASS' : 'FAIL'}`);
    process.exit(ok ? 0 : 1);
}
