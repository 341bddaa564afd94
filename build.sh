#!/usr/bin/env bash
# Builds TADD. With no argument: the native `tadd` binary into bin/, using
# the AVX2/AVX-512 kernels (GOEXPERIMENT=simd) on amd64 and the portable
# kernels elsewhere.
#
#   ./build.sh           build bin/tadd
#   ./build.sh test      run every test, with and without GOEXPERIMENT=simd
#   ./build.sh bench     run the benchmarks (figures for BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")"

simd_env() {
	if [ "$(go env GOARCH)" = amd64 ]; then echo "GOEXPERIMENT=simd"; fi
}

build_native() {
	mkdir -p bin
	env $(simd_env) go build -o bin/tadd ./native/cmd/tadd
	echo "built bin/tadd ($(simd_env || true))"
}

case "${1:-native}" in
native)
	build_native
	;;
test)
	go mod download
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
	echo "usage: $0 [native|test|bench]" >&2
	exit 2
	;;
esac
