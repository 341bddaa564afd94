package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tadd-project/tadd/core/catalog"
	"github.com/tadd-project/tadd/core/eval"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/core/weights"
	"github.com/tadd-project/tadd/native/modelfile"
)

const tinyModelFile = "../../../core/attack/testdata/tiny-mnist.safetensors"

// quickTrain is a training run of seconds; a case's flags come after it
// and override it.
func quickTrain(out string) []string {
	return []string{"train", "--arch", "tiny", "--epochs", "1", "--train-samples", "256", "--test-samples", "100", "--quiet", "--offline", "--out", out}
}

// TestBadFlagsRejectedUpFront: every value that cannot work is refused
// before any work with a message naming the flag (exit 2), instead of a
// run that fails after an epoch, or treats a negative count as "all".
func TestBadFlagsRejectedUpFront(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	// Quick runs by construction, so that a check that stops working
	// costs seconds, not hours.
	distill := func(bad ...string) []string {
		return append([]string{"distill", "--arch", "tiny", "--epochs", "1", "--steps", "0", "--train-samples", "256", "--quiet", "--offline", "--out", dir}, bad...)
	}
	models := tinyChains(t)
	reproduce := func(bad ...string) []string {
		return append([]string{"reproduce", "--models", models, "--temperatures", "1", "--steps", "0", "--quick", "--samples", "8", "--attack-samples", "1",
			"--attacks", "l2", "--max-iterations", "20", "--quiet", "--offline", "--out", filepath.Join(dir, "rep")}, bad...)
	}
	cases := []struct {
		args []string
		msg  string
	}{
		{append(quickTrain(out), "--momentum", "NaN"), "--momentum NaN"},
		{append(quickTrain(out), "--decay", "NaN"), "--decay NaN"},
		{append(quickTrain(out), "--decay", "-1"), "--decay -1"},
		{append(quickTrain(out), "--temperature", "1e-45"), "--temperature"},
		{append(quickTrain(out), "--temperature", "1e300"), "--temperature"},
		{append(quickTrain(out), "--epochs", "0"), "--epochs 0"},
		{append(quickTrain(out), "--workers", "-1"), "--workers -1"},
		{append(quickTrain(out), "--train-samples", "-5"), "--train-samples -5"},
		{append(quickTrain(out), "--test-samples", "-5"), "--test-samples -5"},
		{distill("--train-samples", "-1"), "--train-samples -1"},
		{distill("--temperature", "1e-45"), "bad temperature"},
		{distill("--epochs", "0"), "--epochs 0"},
		{[]string{"evaluate", "--max-iterations", "-1", "--offline", tinyModelFile}, "--max-iterations -1"},
		{[]string{"evaluate", "--samples", "-1", "--offline", tinyModelFile}, "--samples -1"},
		{[]string{"evaluate", "--workers", "-1", "--offline", tinyModelFile}, "--workers -1"},
		{[]string{"evaluate", "--target", "11", "--attacks", "l2", "--samples", "20", "--offline", tinyModelFile}, "--target"},
		{[]string{"evaluate", "--target", "sideways", "--offline", tinyModelFile}, "--target"},
		{[]string{"attack", "--model", tinyModelFile, "--attack", "l2", "--max-iterations", "-1", "--offline"}, "--max-iterations -1"},
		{reproduce("--samples", "-1"), "--samples -1"},
		{reproduce("--attack-samples", "-1"), "--attack-samples -1"},
		{reproduce("--attack-samples", "l0=5"), "l0 is not among --attacks"},
		{reproduce("--min-epochs", "-1"), "--min-epochs -1"},
		{reproduce("--max-iterations", "-1"), "--max-iterations -1"},
		{reproduce("--workers", "-1"), "--workers -1"},
		{reproduce("--train-missing", "--epochs", "0"), "--epochs 0"},
		{reproduce("--standard"), "--quick and --standard"},
		{reproduce("--budget", "--budget-images", "0"), "--budget-images 0"},
		{reproduce("--budget", "--shard", "0/2"), "--budget runs unsharded"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, context.Background(), c.args...)
		if code != 2 || !strings.Contains(stderr, c.msg) || strings.Contains(stderr, "epoch 1/") || strings.Contains(stderr, "accuracy") {
			t.Errorf("tadd %v: exit %d, stderr %q; want exit 2 naming %q before any work", c.args, code, stderr, c.msg)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a model was written")
	}
}

// TestTrainOutputCheckedFirst: an --out that is not a regular file, or
// that cannot be created, fails before training, and nothing at the path
// is replaced.
func TestTrainOutputCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link.safetensors")
	os.Symlink(victim, link)
	fifo := filepath.Join(dir, "fifo.safetensors")
	syscall.Mkfifo(fifo, 0o644)
	folder := filepath.Join(dir, "folder.safetensors")
	os.Mkdir(folder, 0o755)
	for _, c := range []struct {
		out, msg string
	}{
		{link, "symlink"},
		{fifo, "FIFO"},
		{folder, "folder"},
		{filepath.Join(victim, "m.safetensors"), "not a directory"},
	} {
		code, _, stderr := runCLI(t, context.Background(), quickTrain(c.out)...)
		if code == 0 || !strings.Contains(stderr, c.msg) || strings.Contains(stderr, "epoch 1/") {
			t.Errorf("--out %s: exit %d, %q; want a failure mentioning %q before training", c.out, code, stderr, c.msg)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("the symlink's target now holds %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatal("the FIFO was replaced")
	}
}

// TestTrainRemovesWhatAKillLeft: the temporary files of an interrupted
// write of the model or its checkpoint go at the next run.
func TestTrainRemovesWhatAKillLeft(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	stale := []string{".m.safetensors.tmp-1234", ".m.safetensors.ckpt.tmp-99"}
	for _, n := range stale {
		os.WriteFile(filepath.Join(dir, n), []byte("half a model"), 0o644)
	}
	other := filepath.Join(dir, ".other.safetensors.tmp-5")
	os.WriteFile(other, nil, 0o644)
	if code, _, stderr := runCLI(t, context.Background(), quickTrain(out)...); code != 0 {
		t.Fatalf("train: exit %d, %s", code, stderr)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s left behind", n)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("another output's temporary file was removed")
	}
}

// writeIDX writes an uncompressed MNIST-format pair (images, labels).
func writeIDX(t *testing.T, dir, prefix string, n, side int) {
	t.Helper()
	var img bytes.Buffer
	binary.Write(&img, binary.BigEndian, [4]uint32{0x803, uint32(n), uint32(side), uint32(side)})
	img.Write(make([]byte, n*side*side))
	var lab bytes.Buffer
	binary.Write(&lab, binary.BigEndian, [2]uint32{0x801, uint32(n)})
	for i := range n {
		lab.WriteByte(byte(i % 10))
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-images-idx3-ubyte"), img.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte"), lab.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMismatchedTestSetFailsFirst: a 14×14 test set next to the 28×28
// training set is an error before training (it used to train to the end,
// then panic, and never write the model).
func TestMismatchedTestSetFailsFirst(t *testing.T) {
	data := t.TempDir()
	writeIDX(t, data, "t10k", 50, 14)
	dir := t.TempDir()
	for _, args := range [][]string{
		append(quickTrain(filepath.Join(dir, "m.safetensors")), "--data", data),
		{"distill", "--arch", "tiny", "--epochs", "1", "--steps", "1", "--train-samples", "256", "--quiet", "--offline", "--data", data, "--out", dir},
	} {
		code, _, stderr := runCLI(t, context.Background(), args...)
		if code != 1 || !strings.Contains(stderr, "14×14×1") || strings.Contains(stderr, "epoch 1/") {
			t.Errorf("tadd %s: exit %d, %q; want an error naming the test set's shape before training", args[0], code, stderr)
		}
	}
}

// TestEvaluateNonFiniteModel: a model whose outputs overflow (finite
// weights of 65504) is an error line before any measurement, not a JSON
// encoder failure after all of them.
func TestEvaluateNonFiniteModel(t *testing.T) {
	m, err := nn.New(nn.MNISTArch(), nil)
	if err != nil {
		t.Fatal(err)
	}
	meta := weights.Metadata{Identity: catalog.Identity{Dataset: "mnist", Arch: "mnist", Temperature: 1, Role: "teacher", TestAccuracy: -1}}
	for i := range m.Params {
		m.Params[i] = 65504
	}
	path := filepath.Join(t.TempDir(), "overflow.safetensors")
	if err := modelfile.Save(path, m, meta, weights.F16); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"--json"}, {}} {
		args := append(append([]string{"evaluate", "--samples", "50", "--attacks", "l2", "--attack-samples", "2", "--quiet", "--offline"}, extra...), path)
		code, stdout, stderr := runCLI(t, context.Background(), args...)
		if code != 1 || !strings.Contains(stderr, "not finite") && !strings.Contains(stderr, "overflow") || stdout != "" || strings.Contains(stderr, "json:") {
			t.Errorf("evaluate %v: exit %d, stdout %q, stderr %q", extra, code, stdout, stderr)
		}
	}
}

// TestReproduceNeedsItsModels: a --models folder that does not exist, or
// has no manifest, is an error; a chain with gaps is trained only with
// --train-missing.
func TestReproduceNeedsItsModels(t *testing.T) {
	base := []string{"reproduce", "--temperatures", "1", "--steps", "1", "--quick", "--samples", "8", "--attack-samples", "1", "--attacks", "l2",
		"--max-iterations", "20", "--quiet", "--offline", "--epochs", "1", "--out", filepath.Join(t.TempDir(), "out")}
	empty := t.TempDir()
	gaps := tinyChains(t)
	os.Remove(filepath.Join(gaps, "mnist-T1-step1-assistant.safetensors"))
	man, _ := os.ReadFile(filepath.Join(gaps, "manifest.json"))
	var mf struct {
		Models []map[string]any `json:"models"`
	}
	json.Unmarshal(man, &mf)
	var keep []map[string]any
	for _, e := range mf.Models {
		if e["file"] != "mnist-T1-step1-assistant.safetensors" {
			keep = append(keep, e)
		}
	}
	mf.Models = keep
	man, _ = json.Marshal(mf)
	os.WriteFile(filepath.Join(gaps, "manifest.json"), man, 0o644)
	for _, c := range []struct {
		models, msg string
	}{
		{"/nonexistent", "not a folder"},
		{empty, "no manifest.json"},
		{gaps, "--train-missing"},
	} {
		code, _, stderr := runCLI(t, context.Background(), append(base, "--models", c.models)...)
		if code != 1 || !strings.Contains(stderr, c.msg) || strings.Contains(stderr, "training the missing") {
			t.Errorf("--models %s: exit %d, %q; want an error mentioning %q and no training", c.models, code, stderr, c.msg)
		}
	}
}

// shardFile is a samples file of a shard i/n of n*per samples... of one model.
func shardFile(model string, sh eval.Shard, total int, idx ...int) reproduce.SamplesFile {
	sf := reproduce.SamplesFile{Settings: reproduce.Settings{Dataset: "mnist", Preset: "quick", Samples: total, AttackSamples: 1, Attacks: []string{"l2"}, Seed: 1, Steps: 1},
		Shard: sh, Model: reproduce.Model{File: model, Identity: catalog.Identity{Temperature: 1, Role: "teacher"}}}
	for _, k := range idx {
		sf.Samples = append(sf.Samples, eval.Sample{Index: k, Correct: true, Distance: map[string]eval.Dist{}})
	}
	return sf
}

// TestMergeRefusesImpossibleShards: names from samples files are never
// used as paths unchecked, and the shards must partition the samples.
func TestMergeRefusesImpossibleShards(t *testing.T) {
	const model = "mnist-T1-step0-teacher.safetensors"
	good0, good1 := shardFile(model, eval.Shard{I: 0, N: 2}, 4, 0, 2), shardFile(model, eval.Shard{I: 1, N: 2}, 4, 1, 3)
	cases := []struct {
		name  string
		files []reproduce.SamplesFile
		msg   string
	}{
		{"path in the model name", []reproduce.SamplesFile{shardFile("../../../x", eval.Shard{I: 0, N: 1}, 2, 0, 1)}, "bad model file name"},
		{"hidden model name", []reproduce.SamplesFile{shardFile(".x.safetensors", eval.Shard{I: 0, N: 1}, 2, 0, 1)}, "bad model file name"},
		{"shard 5/2", []reproduce.SamplesFile{good0, shardFile(model, eval.Shard{I: 5, N: 2}, 4, 1, 3)}, "shard 5/2"},
		{"shard of 0", []reproduce.SamplesFile{shardFile(model, eval.Shard{I: 0, N: 0}, 4, 0, 1, 2, 3)}, "shard 0/0"},
		{"duplicate index", []reproduce.SamplesFile{good0, shardFile(model, eval.Shard{I: 1, N: 2}, 4, 1, 1, 3)}, "twice"},
		{"index -1", []reproduce.SamplesFile{good0, shardFile(model, eval.Shard{I: 1, N: 2}, 4, -1, 1, 3)}, "sample -1"},
		{"index 1e9", []reproduce.SamplesFile{good0, shardFile(model, eval.Shard{I: 1, N: 2}, 4, 1, 3, 1e9)}, "sample 1000000000"},
		{"a sample missing", []reproduce.SamplesFile{good0, shardFile(model, eval.Shard{I: 1, N: 2}, 4, 1)}, "3 of 4 samples"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := t.TempDir()
			out := filepath.Join(top, "a", "b", "c", "out")
			var dirs []string
			for i, sf := range c.files {
				d := filepath.Join(top, "shard", string(rune('0'+i)))
				b, _ := json.Marshal(sf)
				os.MkdirAll(filepath.Join(d, "samples"), 0o755)
				os.WriteFile(filepath.Join(d, "samples", "s.json"), b, 0o644)
				dirs = append(dirs, d)
			}
			code, _, stderr := runCLI(t, context.Background(), append([]string{"merge", "--out", out}, dirs...)...)
			if code == 0 || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d, %q; want a failure mentioning %q", code, stderr, c.msg)
			}
			filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !strings.HasPrefix(p, filepath.Join(top, "shard")) {
					t.Errorf("merge wrote %s", p)
				}
				return nil
			})
			if _, err := os.Stat(filepath.Join(out, "results.json")); err == nil {
				t.Fatal("merge wrote a report")
			}
		})
	}
	// The good pair merges.
	top := t.TempDir()
	var dirs []string
	for i, sf := range []reproduce.SamplesFile{good1, good0} {
		d := filepath.Join(top, string(rune('0'+i)))
		b, _ := json.Marshal(sf)
		os.MkdirAll(filepath.Join(d, "samples"), 0o755)
		os.WriteFile(filepath.Join(d, "samples", "s.json"), b, 0o644)
		dirs = append(dirs, d)
	}
	if code, _, stderr := runCLI(t, context.Background(), append([]string{"merge", "--out", filepath.Join(top, "out")}, dirs...)...); code != 0 {
		t.Fatalf("good shards: exit %d, %s", code, stderr)
	}
}
