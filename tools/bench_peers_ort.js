#!/usr/bin/env node
// ONNX Runtime half of tools/bench_peers.py (run by it; not standalone-useful).
//
// Usage: node tools/bench_peers_ort.js JOBS.json
//   JOBS.json = {"jobs": [{"model", "precision", "path", "batches": [..],
//                          "threads": [..], "runs", "runs_batched", "warmup",
//                          "chw": [3, H, W], "check_batch"}],
//                "input_file": raw little-endian f32 [check_batch, 3, H, W],
//                "out_dir": dir for the check outputs}
// Prints {"version", "results": [{model, precision, batch, threads, runs,
//          times_ms: [..], min_ms, median_ms}], "checks": [{model, precision, output_file}]}
//
// onnxruntime-node: `npm install --prefix /tmp/ortnode onnxruntime-node
// --ignore-scripts`, then NODE_PATH=/tmp/ortnode/node_modules (bench_peers.py
// sets it). One session per (model, precision, threads); intraOpNumThreads =
// threads, interOpNumThreads = 1, sequential execution, all graph
// optimizations.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) >> 1] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

function ortVersion() {
  try {
    return require('onnxruntime-node/package.json').version;
  } catch (e) {
    return ort.env && ort.env.versions ? ort.env.versions.common : 'unknown';
  }
}

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const buf = fs.readFileSync(cfg.input_file);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const results = [];
  const checks = [];
  for (const job of cfg.jobs) {
    const per = job.chw.reduce((a, b) => a * b, 1);
    for (const th of job.threads) {
      const sess = await ort.InferenceSession.create(job.path, {
        intraOpNumThreads: th,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      const inName = sess.inputNames[0];
      const outName = sess.outputNames[0];
      if (th === job.threads[0] && job.check_batch > 0) {
        const b = job.check_batch;
        const x = new ort.Tensor('float32', all.slice(0, b * per),
                                 [b, ...job.chw]);
        const y = (await sess.run({[inName]: x}))[outName].data;
        const f = path.join(cfg.out_dir,
                            `ort_${job.model}_${job.precision}.f32`);
        fs.writeFileSync(f, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
        checks.push({model: job.model, precision: job.precision,
                     output_file: f});
      }
      for (const b of job.batches) {
        const x = new ort.Tensor('float32', all.slice(0, b * per),
                                 [b, ...job.chw]);
        const feeds = {[inName]: x};
        const runs = b === 1 ? job.runs : job.runs_batched;
        for (let i = 0; i < job.warmup; i++) await sess.run(feeds);
        const ts = [];
        for (let i = 0; i < runs; i++) {
          const t0 = process.hrtime.bigint();
          await sess.run(feeds);
          ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        results.push({model: job.model, precision: job.precision, batch: b,
                      threads: th, runs, times_ms: ts,
                      min_ms: Math.min(...ts), median_ms: median(ts)});
        process.stderr.write(`# ort ${job.model} ${job.precision} b${b} ` +
                             `t${th}: min ${Math.min(...ts).toFixed(1)} ms\n`);
      }
      if (sess.release) await sess.release();
    }
  }
  process.stdout.write(JSON.stringify({version: ortVersion(), results,
                                       checks}) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
