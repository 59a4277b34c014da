#!/usr/bin/env node
// Captions images with transformers.js, offline, greedily, and prints one JSON document:
// versions, load time, and per run (sequential, then each --concurrency level) images/s,
// latency statistics and every image's caption and latency.
//
//   node caption.mjs --model /abs/or/rel/package [--threads 2] [--concurrency 1,4,16]
//                    [--warmup 5] [--repeat 1] [--limit 0] [--concurrent-limit 0] [--no-per-image]
//                    [--max-new-tokens N] (--data SETS | IMAGE|DIR|@LIST ...)
// --data SETS: every ShapeWorld image in a folder of sets (SETS/<set>/world-*.png), for example
// the repository's tests/data/shapeworld.
// --concurrent-limit N: runs with more than one call in flight use only the first N images.
// --max-new-tokens N: greedy captions of at most N new tokens (0: the package's generation config).
import os from 'node:os';
import path from 'node:path';

import {
    captionAll, captionOne, imagesFromArgs, loadCaptioner, parseArgs, readImages, repoRoot, shapeworldImages, versions,
} from './lib.mjs';

const usage = `usage: node caption.mjs [--model DIR] [--threads N] [--concurrency 1,4,16] [--warmup N]
                        [--repeat N] [--limit N] [--concurrent-limit N] [--no-per-image]
                        [--max-new-tokens N] (--data SETS | IMAGE|DIR|@LIST ...)`;

async function main() {
    const opts = parseArgs(process.argv.slice(2), {
        model: path.join(repoRoot, 'models', 'shapeworld-fusion'),
        threads: 2,
        concurrency: '1',
        warmup: 5,
        repeat: 1,
        limit: 0,
        'concurrent-limit': 0,
        'max-new-tokens': 0,
        data: '',
        'no-per-image': false,
        help: false,
    });
    if (opts.help) {
        console.log(usage);
        return;
    }
    const levels = String(opts.concurrency).split(',').map(Number);
    if (levels.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`bad --concurrency ${opts.concurrency}`);
    for (const n of ['warmup', 'repeat', 'limit', 'concurrent-limit', 'max-new-tokens']) {
        if (!Number.isInteger(opts[n]) || opts[n] < 0) throw new Error(`bad --${n} ${opts[n]}`);
    }

    let images = opts.data ? shapeworldImages(path.resolve(String(opts.data))) : imagesFromArgs(opts._);
    if (opts.limit > 0) images = images.slice(0, opts.limit);
    images = readImages(images);
    const workload = Array.from({ length: Math.max(1, opts.repeat) }, () => images).flat();

    const peer = await loadCaptioner(opts.model, { threads: opts.threads });
    peer.maxNewTokens = opts['max-new-tokens'];
    for (let i = 0; i < opts.warmup; i++) await captionOne(peer, images[i % images.length]);

    const runs = [];
    for (const c of levels) {
        const limit = opts['concurrent-limit'];
        const run = await captionAll(peer, c > 1 && limit > 0 ? workload.slice(0, limit) : workload, c);
        run.mode = c === 1 ? 'sequential' : 'concurrent';
        if (opts['no-per-image']) delete run.per_image;
        runs.push(run);
        process.stderr.write(
            `peer c=${c}: ${run.images} images in ${(run.wall_ms / 1000).toFixed(2)} s, ${run.images_per_s.toFixed(1)} images/s, ` +
                `p50 ${run.latency_ms.p50.toFixed(1)} ms\n`,
        );
    }

    console.log(JSON.stringify({
        tool: 'transformers.js',
        versions: versions(),
        model: peer.dir,
        input_size: peer.size,
        threads: opts.threads,
        cpus: os.cpus().length,
        load_ms: peer.loadMs,
        warmup: opts.warmup,
        decoding: opts['max-new-tokens']
            ? `greedy (do_sample=false, num_beams=1), max_new_tokens ${opts['max-new-tokens']}`
            : 'greedy (do_sample=false, num_beams=1), max length from generation_config.json',
        max_new_tokens: opts['max-new-tokens'] || null,
        runs,
    }, null, 1));
}

main().catch((err) => {
    console.error(`caption.mjs: ${process.env.DEBUG ? err?.stack : err?.message ?? err}`);
    process.exit(2);
});
