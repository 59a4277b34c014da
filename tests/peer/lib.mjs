// Shared helpers for the transformers.js peer: offline loading of a model package, image
// enumeration, the captioning loop (sequential or with N calls in flight) and latency statistics.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { env, pipeline, RawImage, LogLevel } from '@huggingface/transformers';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root: tests/peer/../.. */
export const repoRoot = path.resolve(here, '..', '..');

/** The repository's copy of the ShapeWorld development sets. */
export const shapeworldDir = path.join(repoRoot, 'tests', 'data', 'shapeworld');

/** Versions of everything that decides the peer's numbers. */
export function versions() {
    const pkg = (name) => JSON.parse(readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
    return {
        node: process.versions.node,
        transformers_js: pkg('@huggingface/transformers'),
        onnxruntime_node: pkg('onnxruntime-node'),
        sharp: pkg('sharp'),
    };
}

/**
 * Every ShapeWorld image under root (default: the repository's copy), sorted by set then world
 * number, each keyed "<set>/<file>" as in tests/fixtures/parity/<model>/greedy_captions.json.
 */
export function shapeworldImages(root = shapeworldDir) {
    if (!existsSync(root)) throw new Error(`no ShapeWorld sets at ${root}`);
    const images = [];
    for (const set of readdirSync(root).sort()) {
        const dir = path.join(root, set);
        if (!statSync(dir).isDirectory()) continue;
        const files = readdirSync(dir)
            .filter((f) => /^world-\d+\.png$/.test(f))
            .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
        for (const f of files) images.push({ key: `${set}/${f}`, file: path.join(dir, f) });
    }
    if (images.length === 0) throw new Error(`no world-*.png images under ${root}`);
    return images;
}

/** Images from command-line arguments: files, directories (their *.png, *.jpg), or @list files. */
export function imagesFromArgs(args) {
    const images = [];
    const add = (file) => {
        const abs = path.resolve(file);
        images.push({ key: `${path.basename(path.dirname(abs))}/${path.basename(abs)}`, file: abs });
    };
    for (const arg of args) {
        if (arg.startsWith('@')) {
            for (const line of readFileSync(arg.slice(1), 'utf8').split('\n')) if (line.trim()) add(line.trim());
        } else if (statSync(arg).isDirectory()) {
            for (const f of readdirSync(arg).sort()) if (/\.(png|jpe?g)$/i.test(f)) add(path.join(arg, f));
        } else {
            add(arg);
        }
    }
    if (images.length === 0) throw new Error('no images given');
    return images;
}

/**
 * Loads the captioning half of a model package with transformers.js, strictly offline: no hub,
 * no file-system cache, an absolute path (a relative one would be taken for a hub id). `dtype`
 * picks the graph variant as transformers.js does (fp32: onnx/encoder_model.onnx, q8:
 * onnx/encoder_model_quantized.onnx, ...).
 */
export async function loadCaptioner(modelDir, { threads, dtype = 'fp32' }) {
    const dir = path.resolve(modelDir);
    for (const f of ['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json',
        'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx']) {
        if (!existsSync(path.join(dir, f))) throw new Error(`model package ${dir} lacks ${f}`);
    }
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);

    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    env.useBrowserCache = false;
    env.logLevel = LogLevel.ERROR;

    const pre = JSON.parse(readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8'));
    const size = { height: pre.size?.height, width: pre.size?.width };
    if (!Number.isInteger(size.height) || !Number.isInteger(size.width)) {
        throw new Error(`${dir}/preprocessor_config.json has no size {height,width}`);
    }

    const started = performance.now();
    const captioner = await pipeline('image-to-text', dir, {
        device: 'cpu',
        dtype,
        local_files_only: true,
        session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
    const loadMs = performance.now() - started;
    return { captioner, dir, size, loadMs };
}

/** Reads the encoded bytes of every image once, so that timed runs do not include disk reads. */
export function readImages(images) {
    return images.map((img) => ({ ...img, bytes: readFileSync(img.file) }));
}

/**
 * Captions one encoded image greedily: decode (sharp) + preprocess + generate + detokenize, the
 * same work the service does for one request; with `peer.maxNewTokens` set, at most that many
 * new tokens (max_new_tokens), else the package's generation config decides. Refuses an image that is not at the model's input
 * size, so that neither engine resizes (their resize kernels differ).
 */
export async function captionOne(peer, img) {
    const t0 = performance.now();
    const image = await RawImage.fromBlob(new Blob([img.bytes]));
    if (image.width !== peer.size.width || image.height !== peer.size.height) {
        throw new Error(`${img.key} is ${image.width}x${image.height}, the model takes ${peer.size.width}x${peer.size.height}; resize it beforehand`);
    }
    const generation = { do_sample: false, num_beams: 1 };
    if (peer.maxNewTokens) generation.max_new_tokens = peer.maxNewTokens;
    const out = await peer.captioner(image, generation);
    const latencyMs = performance.now() - t0;
    const caption = out?.[0]?.generated_text;
    if (typeof caption !== 'string') throw new Error(`no caption for ${img.key}: ${JSON.stringify(out)}`);
    return { image: img.key, caption, latency_ms: latencyMs };
}

/**
 * Captions all images with `concurrency` calls in flight (1 = sequential). Returns per-image
 * results in input order, the wall time and images per second.
 */
export async function captionAll(peer, images, concurrency) {
    const results = new Array(images.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < images.length; i = next++) results[i] = await captionOne(peer, images[i]);
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(concurrency, images.length) }, worker));
    const wallMs = performance.now() - t0;
    return {
        concurrency,
        images: images.length,
        wall_ms: wallMs,
        images_per_s: (images.length * 1000) / wallMs,
        latency_ms: stats(results.map((r) => r.latency_ms)),
        per_image: results,
    };
}

/** Mean, min, max and nearest-rank percentiles of a list of numbers. */
export function stats(values) {
    if (values.length === 0) throw new Error('no values');
    const s = [...values].sort((a, b) => a - b);
    const pct = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
    return {
        n: s.length,
        mean: s.reduce((a, b) => a + b, 0) / s.length,
        min: s[0],
        p50: pct(50),
        p95: pct(95),
        p99: pct(99),
        max: s[s.length - 1],
    };
}

/** Minimal --name value / --flag parser; positional arguments are returned in `_`. */
export function parseArgs(argv, defaults) {
    const opts = { ...defaults, _: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith('--')) {
            opts._.push(a);
            continue;
        }
        const [name, inline] = a.slice(2).split('=', 2);
        if (!(name in defaults)) throw new Error(`unknown option --${name}`);
        if (typeof defaults[name] === 'boolean') opts[name] = inline === undefined ? true : inline === 'true';
        else {
            const v = inline ?? argv[++i];
            if (v === undefined) throw new Error(`--${name} needs a value`);
            opts[name] = typeof defaults[name] === 'number' ? Number(v) : v;
        }
    }
    return opts;
}
