package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

// TestParseFlagsAnywhere checks that flags are parsed before, between and
// after the positional arguments, and that "--" ends the flags.
func TestParseFlagsAnywhere(t *testing.T) {
	for _, c := range []struct {
		args       string
		json       bool
		samples    int
		positional string
		err        string
	}{
		{"m.safetensors", false, 0, "m.safetensors", ""},
		{"--samples 5 --json m.safetensors", true, 5, "m.safetensors", ""},
		{"m.safetensors --samples 1000 --json", true, 1000, "m.safetensors", ""},
		{"a --json b --samples=3 c", true, 3, "a b c", ""},
		{"a -- --json b", false, 0, "a --json b", ""},
		{"--json -- -x", true, 0, "-x", ""},
		{"a --json=false", false, 0, "a", ""},
		{"a -", false, 0, "a -", ""},
		{"a --samples", false, 0, "", "flag needs an argument"},
		{"a --nope", false, 0, "", "flag provided but not defined"},
		{"a -h", false, 0, "", "help"},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		asJSON := fs.Bool("json", false, "")
		samples := fs.Int("samples", 0, "")
		err := parse(fs, strings.Fields(c.args))
		switch {
		case c.err == "help":
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%q: got %v, want flag.ErrHelp", c.args, err)
			}
		case c.err != "":
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: got %v, want a usage error with %q", c.args, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.args, err)
		case *asJSON != c.json || *samples != c.samples || strings.Join(fs.Args(), " ") != c.positional:
			t.Errorf("%q: json %v samples %d args %q; want %v %d %q", c.args, *asJSON, *samples, fs.Args(), c.json, c.samples, c.positional)
		}
	}
}
