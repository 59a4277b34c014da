#!/usr/bin/env node
// Issue 2, "The shipped package": transformers.js must run the package offline and give the same
// greedy captions as PyTorch for at least 95% of the repository's ShapeWorld images.
//
//   node check-parity.mjs [--model DIR] [--reference FILE] [--threshold 0.95] [--threads 2] [--out FILE]
//                         [--limit N]   (only the first N images: a smoke run, not the check)
//
// Captions every ShapeWorld image (tests/data/shapeworld/<set>/world-*.png, already at the model's
// 100x100 input size, so nothing is resized), compares each with the reference
// ({"<set>/<png file>": "caption", ...}) and exits 1 when the identical share is below the
// threshold, 2 on any error (missing package, missing reference entries, a failed caption).
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

import { captionAll, loadCaptioner, parseArgs, readImages, repoRoot, shapeworldImages, versions } from './lib.mjs';

async function main() {
    const started = performance.now();
    const opts = parseArgs(process.argv.slice(2), {
        model: path.join(repoRoot, 'models', 'shapeworld-fusion'),
        reference: '',
        threshold: 0.95,
        threads: 2,
        out: '',
        'show-mismatches': 10,
        limit: 0,
    });
    const model = path.resolve(opts.model);
    const reference = path.resolve(
        opts.reference || path.join(repoRoot, 'tests', 'fixtures', 'parity', path.basename(model), 'greedy_captions.json'),
    );
    if (!(opts.threshold > 0 && opts.threshold <= 1)) throw new Error(`bad --threshold ${opts.threshold}`);
    if (!existsSync(reference)) throw new Error(`reference captions not found: ${reference}`);

    const expected = JSON.parse(readFileSync(reference, 'utf8'));
    if (typeof expected !== 'object' || Array.isArray(expected) || expected === null) {
        throw new Error(`${reference} is not a {"<set>/<png>": "caption"} object`);
    }
    if (!Number.isInteger(opts.limit) || opts.limit < 0) throw new Error(`bad --limit ${opts.limit}`);
    const images = opts.limit > 0 ? shapeworldImages().slice(0, opts.limit) : shapeworldImages();
    const missing = images.filter((img) => typeof expected[img.key] !== 'string').map((img) => img.key);
    if (missing.length > 0) {
        throw new Error(`${reference} has no caption for ${missing.length} of ${images.length} ShapeWorld images, e.g. ${missing.slice(0, 3).join(', ')}`);
    }

    const peer = await loadCaptioner(model, { threads: opts.threads });
    const run = await captionAll(peer, readImages(images), 1);

    const mismatches = run.per_image
        .filter((r) => r.caption.trim() !== expected[r.image].trim())
        .map((r) => ({ image: r.image, pytorch: expected[r.image], transformers_js: r.caption }));
    const identical = images.length - mismatches.length;
    const share = identical / images.length;
    const passed = share >= opts.threshold;
    const seconds = (performance.now() - started) / 1000;

    const summary = {
        passed,
        identical,
        total: images.length,
        share,
        threshold: opts.threshold,
        model,
        reference,
        threads: opts.threads,
        versions: versions(),
        images_per_s: run.images_per_s,
        duration_s: seconds,
        mismatches,
    };
    if (opts.out) writeFileSync(opts.out, JSON.stringify(summary, null, 1) + '\n');

    for (const m of mismatches.slice(0, opts['show-mismatches'])) {
        console.log(`  differs ${m.image}\n    pytorch:         ${m.pytorch}\n    transformers.js: ${m.transformers_js}`);
    }
    if (opts.limit > 0) console.log(`  (smoke run: only the first ${images.length} images)`);
    console.log(
        `transformers.js ${summary.versions.transformers_js} vs PyTorch greedy captions: ${identical}/${images.length} identical ` +
            `(${(share * 100).toFixed(2)}%, threshold ${(opts.threshold * 100).toFixed(0)}%) -> ${passed ? 'PASS' : 'FAIL'} ` +
            `[${seconds.toFixed(1)} s, ${run.images_per_s.toFixed(1)} images/s]`,
    );
    process.exit(passed ? 0 : 1);
}

main().catch((err) => {
    console.error(`check-parity.mjs: ${process.env.DEBUG ? err?.stack : err?.message ?? err}`);
    process.exit(2);
});
