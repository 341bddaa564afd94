// exec_node.js runs a js/wasm Go test binary in Node with TADD's SIMD
// kernels attached, like Go's wasm_exec_node.js:
//
//   GOOS=js GOARCH=wasm go test -exec "node $PWD/wasm/kernels/exec_node.js" ./wasm/kernels
//
// TADD_KERNELS_DIR holds kernels-*.wasm (default: site/dist, as build.sh
// writes them); TADD_KERNELS is the mode ("auto", "simd128", "portable").
"use strict";
const path = require("path");
const fs = require("fs");
const { execSync } = require("child_process");

globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto");

const goroot = execSync("go env GOROOT").toString().trim();
require(path.join(goroot, "lib/wasm/wasm_exec.js"));
require(path.join(__dirname, "../../site/static/kernels.js"));

const dir = process.env.TADD_KERNELS_DIR || path.join(__dirname, "../../site/dist");
const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require("os").tmpdir() }, process.env);
go.exit = process.exit;
const kernels = taddKernels.prepare(go);
(async () => {
	const { instance } = await WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject);
	await kernels.attach(instance.exports.mem, async (f) => fs.readFileSync(path.join(dir, f)), process.env.TADD_KERNELS);
	process.on("exit", (code) => {
		if (code === 0 && !go.exited) {
			go._pendingEvent = { id: 0 };
			go._resume();
		}
	});
	await go.run(instance);
})().catch((err) => {
	console.error(err);
	process.exit(1);
});
