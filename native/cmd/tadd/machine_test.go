package main

import (
	"bufio"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/kernel"
)

func TestCPUInfoModel(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13  64-Core Processor\nmodel name\t: other\n", "AMD EPYC 7B13 64-Core Processor"},
		{"none", "processor\t: 0\nBogoMIPS\t: 50.00\n", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		if got := cpuInfoModel(bufio.NewScanner(strings.NewReader(c.text))); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	b := &backend{kern: kernel.Portable{}}
	if got := b.machine(3); !strings.HasPrefix(got, "3 × ") || !strings.HasSuffix(got, " cores, portable kernels") {
		t.Errorf("machine %q", got)
	}
}
