package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAssembleMatchesWat2wasm checks that the modules watgen assembles are
// byte for byte what wabt's wat2wasm makes of the committed .wat sources,
// with the flags the kernels need. It needs wabt (Debian package wabt):
// skipped without it, failed in CI, where .ci/run installs it.
func TestAssembleMatchesWat2wasm(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm is not installed (Debian package wabt; .ci/run installs it)")
		}
		t.Skip("wat2wasm (Debian package wabt) not installed")
	}
	dir := t.TempDir()
	if err := write("", dir); err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		ref := filepath.Join(dir, "ref-"+v.wasm)
		args := []string{filepath.Join("..", v.wat), "-o", ref}
		if v.relaxed {
			args = append([]string{"--enable-all"}, args...)
		}
		if out, err := exec.Command("wat2wasm", args...).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm %v: %v\n%s", args, err, out)
		}
		want, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, v.wasm))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: watgen's %d bytes differ from wat2wasm's %d bytes at offset %d", v.wasm, len(got), len(want), i)
		}
	}
}

// TestAssembleSmall checks small modules against the bytes wabt 1.0.32's
// wat2wasm --enable-all wrote for them, so the assembler's corners (limits
// with a maximum, results, grouped locals, signed constants, labels, calls,
// if, align=, relaxed SIMD) are tested where wabt is missing too.
func TestAssembleSmall(t *testing.T) {
	for _, c := range []struct {
		name, wat, want string
	}{
		{"empty", "(module)", "0061736d01000000"},
		{"memory import", `(module (import "env" "mem" (memory 1 2)))`,
			"0061736d01000000020d0103656e76036d656d02010102"},
		{"exported add", `(module (func (export "f") (param $a i32) (param $b i32) (result i32)
			(i32.add (local.get $a) (local.get $b))))`,
			"0061736d0100000001070160027f7f017f03020100070501016600000a09010700200020016a0b"},
		{"locals grouped, negative const, loop and branch", `(module (func $f (local $x i32) (local $y i32) (local $v v128)
			(block $out (loop $l (br_if $out (i32.eqz (local.get $x))) (local.set $y (i32.const -129)) (br $l)))))`,
			"0061736d01000000010401600000030201000a1a011802027f017b024003402000450d0141ff7e21010c000b0b0b"},
		{"simd memory, lanes, call, if", `(module (import "env" "mem" (memory 0))
			(func $g (param $p i32) (v128.store offset=16 (local.get $p) (f32x4.relaxed_madd (v128.load (local.get $p)) (v128.load32_splat (local.get $p)) (v128.load (local.get $p))))
				(f32.store (local.get $p) (f32x4.extract_lane 3 (v128.load align=4 (local.get $p)))))
			(func (call $g (i32.const 0)) (if (i32.const 1) (then (return)))))`,
			"0061736d0100000001080260017f00600000020c0103656e76036d656d02000003030200010a3a022b0020002000fd0004002000fd09" +
				"02002000fd000400fd8502fd0b041020002000fd000200fd1f033802000b0c0041001000410104400f0b0b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := assemble(c.wat)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.want {
				t.Errorf("got  %x\nwant %s", got, c.want)
			}
		})
	}
}

// TestAssembleRejects checks that text outside the supported subset is an
// error naming the problem, not a guess.
func TestAssembleRejects(t *testing.T) {
	for _, c := range []struct{ wat, want string }{
		{"", "end of text"},
		{"(module", "missing )"},
		{"(module))", "text after the module"},
		{"(func)", "want (module"},
		{"(module (table 1 funcref))", "unsupported module field"},
		{`(module (import "env" "f" (func)))`, "only a memory"},
		{"(module (func (i64.add)))", `unsupported instruction "i64.add"`},
		{"(module (func (local.get $x)))", "unknown $x"},
		{"(module (func (local $x i32) (local.get 1)))", `bad index "1"`},
		{"(module (func (br $nowhere)))", "unknown label $nowhere"},
		{"(module (func (call $g)))", "unknown $g"},
		{"(module (func (i32.const 4294967296)))", "bad i32"},
		{"(module (func (v128.load offset=-1 (i32.const 0))))", "bad memory argument"},
		{"(module (func (f32x4.extract_lane (i32.const 0))))", "lane indices"},
		{"(module (func (if (i32.const 1))))", "if without (then"},
		{"(module (func (param $a i32) (param $a i32)))", "declared twice"},
		{"(module (func $f) (func $f))", "defined twice"},
		{"(module (; x ;))", "block comments"},
		{"; x\n(module)", "unexpected ';'"},
		{`(module (import "e\n" "m" (memory 0)))`, "plain ASCII"},
	} {
		_, err := assemble(c.wat)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got error %v, want one containing %q", c.wat, err, c.want)
		}
	}
}

// FuzzAssemble checks that no input makes the assembler panic or hang.
func FuzzAssemble(f *testing.F) {
	f.Add(module(false))
	f.Add(`(module (import "env" "mem" (memory 0)) (func (export "f") (param $a i32) (block $b (br_if $b (local.get $a)))))`)
	f.Add("(module (func (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (i32.const 0) (i32.const 0))))")
	f.Fuzz(func(t *testing.T, wat string) {
		if b, err := assemble(wat); err == nil && !bytes.HasPrefix(b, []byte("\x00asm")) {
			t.Fatalf("no wasm header: % x", b)
		}
	})
}
