// attack-worker.js: a Web Worker that runs TADD's attacks. The page posts
// {type: "init", module, kernels} with its compiled tadd.wasm; this worker
// instantiates its own copy with the SIMD kernels, and Go's main, seeing no
// document, takes over the worker's messages (wasm/worker_wasm.go).
importScripts("wasm_exec.js", "kernels.js");

self.onmessage = async (e) => {
	if (!e.data || e.data.type !== "init") return;
	self.onmessage = null;
	try {
		const go = new Go();
		go.argv = ["tadd-attack-worker"];
		const kernels = taddKernels.prepare(go);
		const instance = await WebAssembly.instantiate(e.data.module, go.importObject);
		const load = (f) => fetch(f).then((r) => {
			if (!r.ok) throw new Error(f + ": HTTP " + r.status);
			return r.arrayBuffer();
		}).then((b) => new Uint8Array(b));
		await kernels.attach(instance.exports.mem, load, e.data.kernels);
		go.run(instance);
	} catch (err) {
		self.postMessage({ type: "fatal", id: 0, data: String(err) });
	}
};
