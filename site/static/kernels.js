// kernels.js loads TADD's WebAssembly SIMD kernels (wasm/kernels) for a Go
// instance, in a page, a Web Worker or Node:
//
//   const go = new Go();
//   const kernels = taddKernels.prepare(go);   // adds the "tadd_kernels" imports
//   const { instance } = await WebAssembly.instantiate(goWasm, go.importObject);
//   await kernels.attach(instance.exports.mem, load, mode);
//   go.run(instance);
//
// load(file) returns the bytes of "kernels-relaxed.wasm" or
// "kernels-simd128.wasm". mode is "auto" (relaxed SIMD where the engine
// validates it, else 128-bit SIMD, else none), "simd128" or "portable" (no
// SIMD kernels: Go uses its portable ones). The kernel module imports the Go
// instance's WebAssembly.Memory itself, so it reads and writes Go slices in
// place, and growth of that memory changes nothing for it.
"use strict";
(function (global) {
	const kinds = ["portable", "wasm-simd128", "wasm-relaxed-simd"];

	function prepare(go) {
		let ex = null;
		let kind = 0;
		go.importObject.tadd_kernels = {
			kind: () => kind,
			gemm: (c, a, b, m, k, n, ars, acs, acc) => ex.gemm(c, a, b, m, k, n, ars, acs, acc),
			col2im: (dimg, dcols, h, w, c) => ex.col2im(dimg, dcols, h, w, c),
			transpose: (dst, src, rows, cols) => ex.transpose(dst, src, rows, cols),
			samebits: (a, b, n) => ex.samebits(a, b, n),
		};
		return {
			get kind() { return kind; },
			get name() { return kinds[kind]; },
			async attach(memory, load, mode) {
				mode = mode || "auto";
				let order = [["kernels-relaxed.wasm", 2], ["kernels-simd128.wasm", 1]];
				if (mode === "simd128") order = order.slice(1);
				if (mode === "portable") order = [];
				for (const [file, k] of order) {
					let bytes;
					try {
						bytes = await load(file);
					} catch (e) {
						console.warn("TADD kernels: " + file + ": " + e);
						continue;
					}
					if (!WebAssembly.validate(bytes)) continue; // the engine lacks this feature
					const { instance } = await WebAssembly.instantiate(bytes, { env: { mem: memory } });
					ex = instance.exports;
					kind = k;
					break;
				}
				return kinds[kind];
			},
		};
	}

	global.taddKernels = { prepare, kinds };
})(globalThis);
