package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// assemble encodes the WebAssembly text that module writes as a binary
// module, byte for byte what wabt's wat2wasm writes for it, so that building
// the site needs no wabt. It knows exactly the subset watgen uses: one
// imported memory, functions with named params and locals and optional
// inline exports, and folded instructions from the opcode table below.
// Anything else is an error, never a guess.
func assemble(wat string) ([]byte, error) {
	toks, err := tokenize(wat)
	if err != nil {
		return nil, err
	}
	root, rest, err := parseSexpr(toks)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("text after the module")
	}
	if !root.isHead("module") {
		return nil, errors.New("want (module ...)")
	}
	return encodeModule(root)
}

// node is an S-expression: an atom (a keyword, $name, number or string) or
// a parenthesised list.
type node struct {
	atom   string
	list   []*node
	isList bool
}

// isHead says whether n is a list that starts with keyword kw.
func (n *node) isHead(kw string) bool {
	return n.isList && len(n.list) > 0 && !n.list[0].isList && n.list[0].atom == kw
}

// tokenize splits the text into "(", ")" and atoms, dropping white space
// and line comments.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], ";;"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "(;"):
			return nil, fmt.Errorf("offset %d: block comments are not supported", i)
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' || s[j] < 0x20 || s[j] >= 0x7f {
					return nil, fmt.Errorf("offset %d: only plain ASCII strings without escapes are supported", j)
				}
				j++
			}
			if j == len(s) {
				return nil, fmt.Errorf("offset %d: unterminated string", i)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()\";", rune(s[j])) {
				j++
			}
			if j == i { // a lone ';'
				return nil, fmt.Errorf("offset %d: unexpected %q", i, c)
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// parseSexpr reads one S-expression from toks and returns the tokens after it.
func parseSexpr(toks []string) (*node, []string, error) {
	if len(toks) == 0 {
		return nil, nil, errors.New("unexpected end of text")
	}
	switch toks[0] {
	case ")":
		return nil, nil, errors.New("unbalanced )")
	case "(":
		n := &node{isList: true}
		toks = toks[1:]
		for {
			if len(toks) == 0 {
				return nil, nil, errors.New("missing )")
			}
			if toks[0] == ")" {
				return n, toks[1:], nil
			}
			var c *node
			var err error
			if c, toks, err = parseSexpr(toks); err != nil {
				return nil, nil, err
			}
			n.list = append(n.list, c)
		}
	default:
		return &node{atom: toks[0]}, toks[1:], nil
	}
}

// Binary encoding constants (WebAssembly core specification, section 5).
const (
	secType     = 1
	secImport   = 2
	secFunction = 3
	secExport   = 7
	secCode     = 10

	kindFunc   = 0x00
	kindMemory = 0x02

	opBlock = 0x02
	opLoop  = 0x03
	opIf    = 0x04
	opEnd   = 0x0b
	// simdPrefix starts every 128-bit SIMD instruction; a LEB128 code follows.
	simdPrefix = 0xfd
	blockEmpty = 0x40
)

var valTypes = map[string]byte{"i32": 0x7f, "i64": 0x7e, "f32": 0x7d, "f64": 0x7c, "v128": 0x7b}

// imm is the kind of immediate an instruction takes.
type imm int

const (
	immNone    imm = iota
	immLocal       // a local's $name or index
	immFunc        // a function's $name or index
	immLabel       // a label's $name or relative depth
	immI32         // a 32-bit integer constant
	immMem         // offset= and align= (default: the natural alignment)
	immLane        // one lane index
	immShuffle     // 16 lane indices
)

// opcode is an instruction's encoding: simd instructions are the prefix
// 0xfd then code as LEB128; memory instructions carry their natural
// alignment as log2 bytes.
type opcode struct {
	code  uint32
	simd  bool
	imm   imm
	align uint32
}

// opcodes are the instructions watgen writes, and only those.
var opcodes = map[string]opcode{
	"br":                 {code: 0x0c, imm: immLabel},
	"br_if":              {code: 0x0d, imm: immLabel},
	"return":             {code: 0x0f},
	"call":               {code: 0x10, imm: immFunc},
	"local.get":          {code: 0x20, imm: immLocal},
	"local.set":          {code: 0x21, imm: immLocal},
	"i32.load":           {code: 0x28, imm: immMem, align: 2},
	"f32.load":           {code: 0x2a, imm: immMem, align: 2},
	"f32.store":          {code: 0x38, imm: immMem, align: 2},
	"i32.const":          {code: 0x41, imm: immI32},
	"i32.eqz":            {code: 0x45},
	"i32.eq":             {code: 0x46},
	"i32.ne":             {code: 0x47},
	"i32.gt_u":           {code: 0x4b},
	"i32.ge_s":           {code: 0x4e},
	"i32.ge_u":           {code: 0x4f},
	"i32.add":            {code: 0x6a},
	"i32.sub":            {code: 0x6b},
	"i32.mul":            {code: 0x6c},
	"i32.and":            {code: 0x71},
	"i32.shl":            {code: 0x74},
	"f32.add":            {code: 0x92},
	"f32.mul":            {code: 0x94},
	"v128.load":          {code: 0x00, simd: true, imm: immMem, align: 4},
	"v128.load32_splat":  {code: 0x09, simd: true, imm: immMem, align: 2},
	"v128.store":         {code: 0x0b, simd: true, imm: immMem, align: 4},
	"i8x16.shuffle":      {code: 0x0d, simd: true, imm: immShuffle},
	"f32x4.extract_lane": {code: 0x1f, simd: true, imm: immLane},
	"v128.or":            {code: 0x50, simd: true},
	"v128.xor":           {code: 0x51, simd: true},
	"v128.any_true":      {code: 0x53, simd: true},
	"f32x4.add":          {code: 0xe4, simd: true},
	"f32x4.mul":          {code: 0xe6, simd: true},
	"f32x4.relaxed_madd": {code: 0x105, simd: true},
}

// function is one (func ...) field, its body still text.
type function struct {
	name    string
	exports []string
	params  []byte
	results []byte
	locals  []byte
	names   map[string]uint32 // params then locals
	body    []*node
}

func encodeModule(root *node) ([]byte, error) {
	var imports, exports, types, funcSec, code []byte
	var nimports, nexports, ntypes, nfuncs int
	var funcs []*function
	funcIndex := map[string]uint32{}
	typeIndex := map[string]uint32{}
	for _, f := range root.list[1:] {
		switch {
		case f.isHead("import"):
			b, err := parseImport(f)
			if err != nil {
				return nil, err
			}
			imports = append(imports, b...)
			nimports++
		case f.isHead("func"):
			fn, err := parseFunc(f)
			if err != nil {
				return nil, err
			}
			if fn.name != "" {
				if _, dup := funcIndex[fn.name]; dup {
					return nil, fmt.Errorf("func %s defined twice", fn.name)
				}
				funcIndex[fn.name] = uint32(len(funcs))
			}
			funcs = append(funcs, fn)
		default:
			return nil, fmt.Errorf("unsupported module field %s", describe(f))
		}
	}
	for i, fn := range funcs {
		sig := string(fn.params) + "|" + string(fn.results)
		ti, ok := typeIndex[sig]
		if !ok {
			ti = uint32(ntypes)
			typeIndex[sig] = ti
			ntypes++
			types = append(types, 0x60)
			types = appendVec(types, fn.params)
			types = appendVec(types, fn.results)
		}
		funcSec = appendU32(funcSec, ti)
		nfuncs++
		for _, e := range fn.exports {
			exports = appendName(exports, e)
			exports = append(exports, kindFunc)
			exports = appendU32(exports, uint32(i))
			nexports++
		}
		body, err := encodeBody(fn, funcIndex, uint32(len(funcs)))
		if err != nil {
			if fn.name != "" {
				return nil, fmt.Errorf("func %s: %w", fn.name, err)
			}
			return nil, fmt.Errorf("func %d: %w", i, err)
		}
		code = appendU32(code, uint32(len(body)))
		code = append(code, body...)
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range []struct {
		id    byte
		count int
		body  []byte
	}{{secType, ntypes, types}, {secImport, nimports, imports}, {secFunction, nfuncs, funcSec}, {secExport, nexports, exports}, {secCode, nfuncs, code}} {
		if s.count == 0 {
			continue
		}
		content := appendU32(nil, uint32(s.count))
		content = append(content, s.body...)
		out = append(out, s.id)
		out = appendU32(out, uint32(len(content)))
		out = append(out, content...)
	}
	return out, nil
}

// parseImport encodes (import "module" "name" (memory min max?)).
func parseImport(f *node) ([]byte, error) {
	if len(f.list) != 4 || !f.list[3].isHead("memory") {
		return nil, fmt.Errorf("unsupported import %s: only a memory", describe(f))
	}
	var b []byte
	for _, s := range f.list[1:3] {
		name, err := stringAtom(s)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		b = appendName(b, name)
	}
	b = append(b, kindMemory)
	lim := f.list[3].list[1:]
	if len(lim) < 1 || len(lim) > 2 {
		return nil, fmt.Errorf("memory import: want min and optional max, got %s", describe(f.list[3]))
	}
	var vals []uint32
	for _, a := range lim {
		v, err := u32Atom(a)
		if err != nil {
			return nil, fmt.Errorf("memory limits: %w", err)
		}
		vals = append(vals, v)
	}
	b = append(b, byte(len(vals)-1)) // 0x00: min only, 0x01: min and max
	for _, v := range vals {
		b = appendU32(b, v)
	}
	return b, nil
}

// parseFunc reads a (func $name? (export "e")* (param ...)* (result ...)*
// (local ...)* instr*) field.
func parseFunc(f *node) (*function, error) {
	fn := &function{names: map[string]uint32{}}
	items := f.list[1:]
	if len(items) > 0 && !items[0].isList && strings.HasPrefix(items[0].atom, "$") {
		fn.name, items = items[0].atom, items[1:]
	}
	var nlocal uint32
	// declare adds the types of one (param ...) or (local ...): either one
	// $name and its type, or unnamed types.
	declare := func(d *node, dst *[]byte) error {
		args := d.list[1:]
		if len(args) == 2 && !args[0].isList && strings.HasPrefix(args[0].atom, "$") {
			t, ok := valType(args[1])
			if !ok {
				return fmt.Errorf("bad type in %s", describe(d))
			}
			if _, dup := fn.names[args[0].atom]; dup {
				return fmt.Errorf("%s declared twice", args[0].atom)
			}
			fn.names[args[0].atom] = nlocal
			nlocal++
			*dst = append(*dst, t)
			return nil
		}
		for _, a := range args {
			t, ok := valType(a)
			if !ok {
				return fmt.Errorf("bad type in %s", describe(d))
			}
			nlocal++
			*dst = append(*dst, t)
		}
		return nil
	}
	stage := 0 // 0 exports, 1 params, 2 results, 3 locals, 4 body
	for _, it := range items {
		var err error
		switch {
		case it.isHead("export") && stage == 0:
			if len(it.list) != 2 {
				return nil, fmt.Errorf("bad %s", describe(it))
			}
			name, err := stringAtom(it.list[1])
			if err != nil {
				return nil, fmt.Errorf("export: %w", err)
			}
			fn.exports = append(fn.exports, name)
		case it.isHead("param") && stage <= 1:
			stage = 1
			err = declare(it, &fn.params)
		case it.isHead("result") && stage <= 2:
			stage = 2
			for _, a := range it.list[1:] {
				t, ok := valType(a)
				if !ok {
					return nil, fmt.Errorf("bad type in %s", describe(it))
				}
				fn.results = append(fn.results, t)
			}
		case it.isHead("local") && stage <= 3:
			stage = 3
			err = declare(it, &fn.locals)
		default:
			stage = 4
			fn.body = append(fn.body, it)
		}
		if err != nil {
			return nil, err
		}
	}
	return fn, nil
}

// encodeBody writes a function body: the locals as runs of one type (as
// wabt groups them), the instructions, end.
func encodeBody(fn *function, funcIndex map[string]uint32, nfuncs uint32) ([]byte, error) {
	var runs []byte
	nruns := 0
	for i := 0; i < len(fn.locals); {
		j := i
		for j < len(fn.locals) && fn.locals[j] == fn.locals[i] {
			j++
		}
		runs = appendU32(runs, uint32(j-i))
		runs = append(runs, fn.locals[i])
		nruns++
		i = j
	}
	b := appendU32(nil, uint32(nruns))
	b = append(b, runs...)
	e := &encoder{fn: fn, funcIndex: funcIndex, nfuncs: nfuncs, nlocals: uint32(len(fn.params) + len(fn.locals))}
	for _, in := range fn.body {
		if err := e.instr(in); err != nil {
			return nil, err
		}
	}
	b = append(b, e.out...)
	return append(b, opEnd), nil
}

// encoder writes the folded instructions of one function body.
type encoder struct {
	fn        *function
	funcIndex map[string]uint32
	nfuncs    uint32
	nlocals   uint32
	labels    []string // innermost last; "" for an unnamed block
	out       []byte
}

// instr encodes one folded instruction: its operands first, then itself.
func (e *encoder) instr(n *node) error {
	if !n.isList || len(n.list) == 0 || n.list[0].isList {
		return fmt.Errorf("want a folded instruction, got %s", describe(n))
	}
	op, args := n.list[0].atom, n.list[1:]
	switch op {
	case "block", "loop":
		label, body := labelOf(args)
		e.out = append(e.out, map[string]byte{"block": opBlock, "loop": opLoop}[op], blockEmpty)
		return e.nested(label, body, opEnd)
	case "if":
		label, rest := labelOf(args)
		// (if label? cond* (then instr*) (else instr*)?)
		var then, els *node
		var conds []*node
		for i, a := range rest {
			switch {
			case a.isHead("then") && then == nil:
				then = a
			case a.isHead("else") && then != nil && els == nil:
				els = a
			case then == nil:
				conds = append(conds, a)
			default:
				return fmt.Errorf("unexpected %s in if (item %d)", describe(a), i)
			}
		}
		if then == nil {
			return errors.New("if without (then ...)")
		}
		for _, c := range conds {
			if err := e.instr(c); err != nil {
				return err
			}
		}
		e.out = append(e.out, opIf, blockEmpty)
		if els == nil {
			return e.nested(label, then.list[1:], opEnd)
		}
		if err := e.nested(label, then.list[1:], 0x05); err != nil { // else
			return err
		}
		return e.nested(label, els.list[1:], opEnd)
	}
	oc, ok := opcodes[op]
	if !ok {
		return fmt.Errorf("unsupported instruction %q", op)
	}
	// Immediates come first, then the folded operands.
	var immb []byte
	var err error
	switch oc.imm {
	case immLocal, immFunc, immLabel:
		if len(args) == 0 || args[0].isList {
			return fmt.Errorf("%s needs an index", op)
		}
		var idx uint32
		switch oc.imm {
		case immLocal:
			idx, err = resolve(args[0].atom, e.fn.names, e.nlocals)
		case immFunc:
			idx, err = resolve(args[0].atom, e.funcIndex, e.nfuncs)
		default:
			idx, err = e.label(args[0].atom)
		}
		immb, args = appendU32(nil, idx), args[1:]
	case immI32:
		if len(args) == 0 || args[0].isList {
			return fmt.Errorf("%s needs a value", op)
		}
		var v int32
		v, err = i32Atom(args[0])
		immb, args = appendS32(nil, v), args[1:]
	case immMem:
		offset, align := uint32(0), oc.align
		for len(args) > 0 && !args[0].isList {
			k, val, found := strings.Cut(args[0].atom, "=")
			v, perr := u32Atom(&node{atom: val})
			switch {
			case !found || perr != nil:
				return fmt.Errorf("%s: bad memory argument %q", op, args[0].atom)
			case k == "offset":
				offset = v
			case k == "align" && v != 0 && v&(v-1) == 0:
				align = 0
				for v > 1 {
					v >>= 1
					align++
				}
			default:
				return fmt.Errorf("%s: bad memory argument %q", op, args[0].atom)
			}
			args = args[1:]
		}
		immb = appendU32(appendU32(nil, align), offset)
	case immLane, immShuffle:
		want := 1
		if oc.imm == immShuffle {
			want = 16
		}
		for i := 0; i < want; i++ {
			if len(args) == 0 || args[0].isList {
				return fmt.Errorf("%s needs %d lane indices", op, want)
			}
			v, perr := u32Atom(args[0])
			if perr != nil || v > 31 {
				return fmt.Errorf("%s: bad lane %q", op, args[0].atom)
			}
			immb, args = append(immb, byte(v)), args[1:]
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, a := range args {
		if err := e.instr(a); err != nil {
			return err
		}
	}
	if oc.simd {
		e.out = appendU32(append(e.out, simdPrefix), oc.code)
	} else {
		e.out = append(e.out, byte(oc.code))
	}
	e.out = append(e.out, immb...)
	return nil
}

// nested encodes the body of a block, loop or if arm under its label, then
// the byte that closes it (end, or else).
func (e *encoder) nested(label string, body []*node, closing byte) error {
	e.labels = append(e.labels, label)
	for _, in := range body {
		if err := e.instr(in); err != nil {
			return err
		}
	}
	e.labels = e.labels[:len(e.labels)-1]
	e.out = append(e.out, closing)
	return nil
}

// label resolves a branch target to its relative depth.
func (e *encoder) label(ref string) (uint32, error) {
	if strings.HasPrefix(ref, "$") {
		for d := len(e.labels) - 1; d >= 0; d-- {
			if e.labels[d] == ref {
				return uint32(len(e.labels) - 1 - d), nil
			}
		}
		return 0, fmt.Errorf("unknown label %s", ref)
	}
	v, err := u32Atom(&node{atom: ref})
	if err != nil || v > uint32(len(e.labels)) { // depth len(labels) is the function itself
		return 0, fmt.Errorf("bad label %q", ref)
	}
	return v, nil
}

// labelOf splits an optional leading $label off a block's items.
func labelOf(args []*node) (string, []*node) {
	if len(args) > 0 && !args[0].isList && strings.HasPrefix(args[0].atom, "$") {
		return args[0].atom, args[1:]
	}
	return "", args
}

// resolve turns a $name or a number below n into an index.
func resolve(ref string, names map[string]uint32, n uint32) (uint32, error) {
	if strings.HasPrefix(ref, "$") {
		i, ok := names[ref]
		if !ok {
			return 0, fmt.Errorf("unknown %s", ref)
		}
		return i, nil
	}
	v, err := u32Atom(&node{atom: ref})
	if err != nil || v >= n {
		return 0, fmt.Errorf("bad index %q", ref)
	}
	return v, nil
}

func valType(n *node) (byte, bool) {
	if n.isList {
		return 0, false
	}
	t, ok := valTypes[n.atom]
	return t, ok
}

func stringAtom(n *node) (string, error) {
	if n.isList || len(n.atom) < 2 || n.atom[0] != '"' {
		return "", fmt.Errorf("want a string, got %s", describe(n))
	}
	return n.atom[1 : len(n.atom)-1], nil
}

// parseInt reads a text-format integer: decimal or 0x hex, optionally
// signed, with _ separators.
func parseInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	neg := false
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		neg, s = s[0] == '-', s[1:]
	}
	base := 10
	if strings.HasPrefix(s, "0x") {
		base, s = 16, s[2:]
	}
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("bad integer")
	}
	v, err := strconv.ParseUint(s, base, 33)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

func u32Atom(n *node) (uint32, error) {
	if n.isList {
		return 0, fmt.Errorf("want a number, got %s", describe(n))
	}
	v, err := parseInt(n.atom)
	if err != nil || v < 0 || v > 1<<32-1 || strings.HasPrefix(n.atom, "+") {
		return 0, fmt.Errorf("bad unsigned integer %q", n.atom)
	}
	return uint32(v), nil
}

// i32Atom reads an i32.const value: signed or unsigned 32-bit.
func i32Atom(n *node) (int32, error) {
	if n.isList {
		return 0, fmt.Errorf("want a number, got %s", describe(n))
	}
	v, err := parseInt(n.atom)
	if err != nil || v < -1<<31 || v > 1<<32-1 {
		return 0, fmt.Errorf("bad i32 %q", n.atom)
	}
	return int32(uint32(v)), nil
}

// describe shortens a node for an error message.
func describe(n *node) string {
	if !n.isList {
		return strconv.Quote(n.atom)
	}
	if len(n.list) > 0 && !n.list[0].isList {
		return "(" + n.list[0].atom + " ...)"
	}
	return "(...)"
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendVec(b, items []byte) []byte {
	return append(appendU32(b, uint32(len(items))), items...)
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}
