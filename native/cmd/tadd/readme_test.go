package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeCommand is one command line of README.md.
type readmeCommand struct {
	line int    // 1-based line in README.md
	prog string // "tadd", "go" or "./build.sh"
	text string // the arguments, as written
}

// readmeCommands returns every tadd, go and ./build.sh command line in
// README.md: those of its sh code blocks (a line or an && segment that
// starts with tadd or ./bin/tadd, go, or ./build.sh), the sh -c command
// lines of its yaml blocks, and each inline code span `tadd SUBCOMMAND
// --flag...` of the prose (a bare `tadd models` in a sentence names a
// command, it is not a command line).
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []readmeCommand
	// add records an sh command line's tadd invocations.
	add := func(line int, sh string) {
		if i := strings.Index(sh, "#"); i >= 0 {
			sh = sh[:i]
		}
		for _, seg := range strings.Split(sh, "&&") {
			f := strings.Fields(seg)
			if len(f) == 0 {
				continue
			}
			switch prog := strings.TrimPrefix(f[0], "./bin/"); prog {
			case "tadd", "go", "./build.sh":
				cmds = append(cmds, readmeCommand{line, prog, strings.Join(f[1:], " ")})
			}
		}
	}
	block := "" // the info string of the fenced block we are in
	inBlock := false
	for i, line := range strings.Split(string(b), "\n") {
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "```") {
			inBlock, block = !inBlock, strings.TrimPrefix(trimmed, "```")
			continue
		}
		switch {
		case inBlock && block == "sh":
			add(i+1, line)
		case inBlock && block == "yaml":
			if _, cmd, ok := strings.Cut(line, `"sh", "-c", "`); ok {
				cmd, _, _ = strings.Cut(cmd, `"`)
				add(i+1, cmd)
			}
		case !inBlock:
			for _, span := range regexp.MustCompile("`[^`]+`").FindAllString(line, -1) {
				if span = strings.Trim(span, "`"); strings.Contains(span, " -") {
					add(i+1, span)
				}
			}
		}
	}
	return cmds
}

// variants expands a command's optional parts, written [--models DIR]:
// the line without them and the line with all of them.
func variants(text string) []string {
	opt := regexp.MustCompile(`\s*\[([^\]]*)\]`)
	if !opt.MatchString(text) {
		return []string{text}
	}
	return []string{opt.ReplaceAllString(text, ""), opt.ReplaceAllString(text, " $1")}
}

// TestREADMECommands runs every tadd command line that README.md shows, in
// order, in one working folder (so that the models one line trains are the
// ones the next line distills from, evaluates or attacks), each parsed as
// written. Flags appended after the line's own cap the work (the tiny
// network, a few samples and iterations, no download). serve is stopped
// once it listens; playground must fail only for want of a display. The
// README's go lines (go build ./..., go vet ./...) run in the repository;
// of its ./build.sh lines only the target's existence is checked, since
// ./build.sh test is what runs this test.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README command line")
	}
	cmds := readmeCommands(t)
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	buildSh, err := os.ReadFile(filepath.Join(root, "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) < 20 {
		t.Fatalf("found only %d tadd command lines in README.md", len(cmds))
	}
	// DIR: a small model folder whose manifest verifies.
	models := t.TempDir()
	if code, _, stderr := runCLI(t, context.Background(), "distill", "--arch", "tiny", "--temperature", "1,5", "--steps", "1", "--epochs", "1",
		"--train-samples", "300", "--quiet", "--offline", "--out", models); code != 0 {
		t.Fatalf("distilling the DIR models: exit %d, %s", code, stderr)
	}
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<html>demo</html>"), 0o644)
	os.WriteFile(filepath.Join(site, "tadd.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	cifar := t.TempDir()
	writeCIFAR(t, cifar, 100)
	work := t.TempDir()
	t.Chdir(work)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	ran := map[string]int{}
	for _, c := range cmds {
		switch c.prog {
		case "./build.sh": // build.sh test runs this test: check only that the target exists
			target := "all"
			if c.text != "" {
				target = strings.Fields(c.text)[0]
			}
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `\)$`).Match(buildSh) {
				t.Errorf("README.md:%d: ./build.sh has no target %q", c.line, target)
			}
			continue
		case "go": // go build and go vet of the whole module, natively
			args := strings.Fields(c.text)
			if strings.Contains(c.text, "-fuzz") {
				args = append(args, "-fuzztime=200x") // a fuzz line: a short, bounded run
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("README.md:%d: go %s: %v\n%s", c.line, c.text, err, out)
			}
			ran["go "+c.text]++
			continue
		}
		for _, text := range variants(c.text) {
			args := expandGlobs(t, strings.Fields(strings.ReplaceAll(text, "DIR", models)))
			ran[args[0]]++
			runREADMECommand(t, c.line, args, models, site, cifar)
		}
	}
	for _, cmd := range []string{"train", "evaluate", "attack", "distill", "models", "serve", "reproduce", "merge", "playground", "go build ./...", "go vet ./..."} {
		if ran[cmd] == 0 {
			t.Errorf("README.md shows no %q command line", cmd)
		}
	}
}

// expandGlobs expands the shell patterns among args, as sh would.
func expandGlobs(t *testing.T, args []string) []string {
	t.Helper()
	var out []string
	for _, a := range args {
		if !strings.ContainsAny(a, "*?") {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil || len(m) == 0 {
			t.Fatalf("%s matches nothing", a)
		}
		out = append(out, m...)
	}
	return out
}

// runREADMECommand runs one README command line with flags that cap its
// work appended, and checks its outcome.
func runREADMECommand(t *testing.T, line int, args []string, models, site, cifar string) {
	t.Helper()
	written := strings.Join(args, " ")
	data := []string{"--offline"}
	if strings.Contains(written, "cifar10") {
		data = []string{"--offline", "--data", cifar}
	}
	arch := []string{"--arch", "tiny"}
	if strings.Contains(written, "cifar10") {
		arch = []string{"--arch", "tiny-cifar"}
	}
	var extra []string
	switch args[0] {
	case "train":
		extra = append(append(arch, "--epochs", "1", "--train-samples", "300", "--test-samples", "100", "--quiet"), data...)
	case "distill":
		extra = append(append(arch, "--epochs", "1", "--teacher-epochs", "1", "--train-samples", "300", "--quiet"), data...)
		if strings.Contains(written, "--temperature 1,") { // several chains: two short ones
			extra = append(extra, "--temperature", "1,20", "--steps", "1")
		}
	case "evaluate":
		extra = append([]string{"--samples", "50", "--attack-samples", "1", "--max-iterations", "20", "--quiet"}, data...)
	case "attack":
		extra = append([]string{"--max-iterations", "20"}, data...)
	case "reproduce":
		extra = append([]string{"--samples", "8", "--attack-samples", "1", "--max-iterations", "20", "--quiet"}, data...)
		if !strings.Contains(written, "--models") { // the shipped models: two of them, one attack
			extra = append(extra, "--temperatures", "1", "--steps", "1", "--attacks", "l2")
		}
	case "serve":
		extra = []string{"--addr", "127.0.0.1:0", "--site", site}
	}
	full := append(append([]string{}, args...), extra...)
	start := time.Now()
	defer func() {
		t.Logf("README.md:%d: tadd %s   [+ %s]: %.1fs", line, written, strings.Join(extra, " "), time.Since(start).Seconds())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, full, &out, &errb) }()
	if args[0] == "serve" {
		for !strings.Contains(out.String(), "TADD demo on") {
			select {
			case code := <-done:
				t.Fatalf("README.md:%d: tadd %s: exit %d before listening: %s", line, written, code, errb.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
		cancel()
	}
	code := <-done
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("README.md:%d: tadd %s: %s\nstdout: %s\nstderr: %s", line, written, fmt.Sprintf(format, a...), out.String(), errb.String())
	}
	switch {
	case args[0] == "playground":
		if code == 0 || code == 2 || !strings.Contains(errb.String(), "no display") {
			fail("exit %d, want the no-display error", code)
		}
	case code != 0:
		fail("exit %d", code)
	case strings.Contains(written, "--json"):
		var v map[string]any
		if err := json.Unmarshal([]byte(out.String()), &v); err != nil {
			fail("--json: %v", err)
		}
	}
}
