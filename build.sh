#!/usr/bin/env bash
# Builds TADD. With no argument: the native `tadd` binary into bin/, using
# the AVX2/AVX-512 kernels (GOEXPERIMENT=simd) on amd64 and the portable
# kernels elsewhere.
#
#   ./build.sh           build the web demo (site/dist) and bin/tadd
#   ./build.sh site      build only the web demo
#   ./build.sh test      run every test, with and without GOEXPERIMENT=simd
#   ./build.sh bench     run the benchmarks (figures for BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")"

simd_env() {
	if [ "$(go env GOARCH)" = amd64 ]; then echo "GOEXPERIMENT=simd"; fi
}

# build_site puts the web demo into site/dist: the page, Go's wasm_exec.js
# and the vugu UI compiled to WebAssembly.
build_site() {
	go tool vugugen -skip-go-mod -skip-main wasm
	gofmt -w wasm/*_gen.go
	mkdir -p site/dist
	cp site/static/* site/dist/
	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" site/dist/
	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o site/dist/tadd.wasm ./wasm
	echo "built site/dist ($(du -h site/dist/tadd.wasm | cut -f1) wasm, $(gzip -9 -c site/dist/tadd.wasm | wc -c) bytes gzipped)"
}

build_native() {
	mkdir -p bin
	env $(simd_env) go build -o bin/tadd ./native/cmd/tadd
	echo "built bin/tadd ($(simd_env || true))"
}

case "${1:-all}" in
all)
	build_site
	build_native
	;;
site)
	build_site
	;;
native)
	build_native
	;;
test)
	go mod download
	build_site
	echo "== go vet"
	go vet ./...
	echo "== tests, portable kernels"
	go test -count=1 -timeout 30m ./...
	if [ -n "$(simd_env)" ]; then
		echo "== tests, SIMD kernels (GOEXPERIMENT=simd)"
		env $(simd_env) go vet ./...
		env $(simd_env) go test -count=1 -timeout 30m ./...
	fi
	;;
bench)
	env $(simd_env) go test -run '^$' -bench . -benchtime 2s ./core/...
	;;
*)
	echo "usage: $0 [all|site|native|test|bench]" >&2
	exit 2
	;;
esac
