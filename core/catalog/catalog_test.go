package catalog

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

func TestRoleAndDisplayName(t *testing.T) {
	for _, c := range []struct {
		step          int
		role, display string
		temp          float64
		file          string
	}{
		{0, "teacher", "teacher", 1, "mnist-T1-step0-teacher.safetensors"},
		{1, "assistant", "assistant", 20, "mnist-T20-step1-assistant.safetensors"},
		{2, "student", "student", 0.5, "mnist-T0.5-step2-student.safetensors"},
		{3, "step3", "step 3", 100, "mnist-T100-step3-step3.safetensors"},
		{6, "step6", "step 6", 5, "mnist-T5-step6-step6.safetensors"},
	} {
		if got := Role(c.step); got != c.role {
			t.Errorf("Role(%d) = %q, want %q", c.step, got, c.role)
		}
		if got := DisplayName(c.step); got != c.display {
			t.Errorf("DisplayName(%d) = %q, want %q", c.step, got, c.display)
		}
		if got := (Identity{Step: c.step, Role: "whatever the file says"}).DisplayName(); got != c.display {
			t.Errorf("Identity.DisplayName at step %d = %q, want %q", c.step, got, c.display)
		}
		if got := ModelName("mnist", c.temp, c.step); got != c.file {
			t.Errorf("ModelName(mnist, %g, %d) = %q, want %q", c.temp, c.step, got, c.file)
		}
		if err := CheckFileName(c.file); err != nil {
			t.Errorf("ModelName gives a name CheckFileName refuses: %v", err)
		}
	}
}

func TestCheckFileName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"mnist-T20-step1-assistant.safetensors", true},
		{"a.safetensors", true},
		{"", false},
		{".safetensors", false},
		{".hidden.safetensors", false},
		{"../x.safetensors", false},
		{"../../../x", false},
		{"dir/x.safetensors", false},
		{`dir\x.safetensors`, false},
		{"/etc/x.safetensors", false},
		{"x.json", false},
		{"x\x00.safetensors", false},
		{"x\n.safetensors", false},
		{"\xff.safetensors", false},
		{strings.Repeat("a", 300) + ".safetensors", false},
	} {
		if err := CheckFileName(c.name); (err == nil) != c.ok {
			t.Errorf("CheckFileName(%q) = %v", c.name, err)
		}
	}
}

func TestCompare(t *testing.T) {
	e := func(file, ds string, temp float64, step int) Entry {
		return Entry{File: file, Identity: Identity{Dataset: ds, Temperature: temp, Step: step}}
	}
	want := []Entry{
		e("a", "cifar10", 100, 0),
		e("b", "mnist", 1, 0),
		e("c", "mnist", 1, 2),
		e("d", "mnist", 5, 0),
		e("e", "mnist", 5, 1),
		e("f", "mnist", 5, 1), // same model, later file
		e("g", "mnist", 20, 0),
	}
	for _, order := range [][]int{{6, 5, 4, 3, 2, 1, 0}, {3, 0, 6, 2, 5, 1, 4}} {
		var got []Entry
		for _, i := range order {
			got = append(got, want[i])
		}
		slices.SortFunc(got, CompareEntries)
		if !slices.Equal(got, want) {
			t.Errorf("sorted %v: got %v", order, got)
		}
	}
	if Compare(want[4].Identity, want[5].Identity) != 0 {
		t.Error("Compare tells apart two entries of the same dataset, T and step")
	}
}

// TestShippedManifestRoundTrips: the shipped manifest.json parses and
// writes back byte for byte (the format on disk is the catalog's).
func TestShippedManifestRoundTrips(t *testing.T) {
	want, err := os.ReadFile("../../pretrained/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Read(os.DirFS("../../pretrained"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Models) < 2 {
		t.Fatalf("%d models", len(m.Models))
	}
	var written []byte
	err = m.Write(func(name string, b []byte) error {
		if name != FileName {
			t.Errorf("Write names %q", name)
		}
		written = b
		return nil
	})
	if err != nil || !bytes.Equal(written, want) {
		t.Fatalf("written back: %v\n%s", err, written)
	}
	if werr := errors.New("disk full"); !errors.Is(m.Write(func(string, []byte) error { return werr }), werr) {
		t.Error("Write dropped the write function's error")
	}
}

func TestManifestPutFindLookup(t *testing.T) {
	m := &Manifest{}
	id := Identity{Dataset: "mnist", Arch: "mnist", Temperature: 20, Step: 1, Role: Role(1), Parent: ModelName("mnist", 20, 0)}
	name := ModelName("mnist", 20, 1)
	m.Put(EntryFor(name, id, []byte("one")))
	m.Put(EntryFor(name, id, []byte("three"))) // replaces, does not duplicate
	m.Put(EntryFor(ModelName("mnist", 1, 0), Identity{Dataset: "mnist", Temperature: 1}, []byte("x")))
	m.Put(EntryFor(ModelName("cifar10", 1, 0), Identity{Dataset: "cifar10", Temperature: 1}, []byte("x")))
	if len(m.Models) != 3 || m.Models[0].Dataset != "cifar10" || m.Models[2].File != name {
		t.Fatalf("entries %+v", m.Models)
	}
	for _, c := range []struct {
		ds   string
		temp float64
		step int
		file string
	}{
		{"mnist", 20, 1, name},
		{"mnist", 20 + 1e-12, 1, name},
		{"mnist", 1, 0, "mnist-T1-step0-teacher.safetensors"},
		{"mnist", 20, 0, ""},
		{"cifar10", 20, 1, ""},
	} {
		e, ok := m.Find(c.ds, c.temp, c.step)
		if ok != (c.file != "") || e.File != c.file {
			t.Errorf("Find(%s, %g, %d) = %q, %v; want %q", c.ds, c.temp, c.step, e.File, ok, c.file)
		}
	}
	e, ok := m.Lookup(name)
	if !ok || e.Bytes != 5 || e.Parent != "mnist-T20-step0-teacher.safetensors" {
		t.Fatalf("Lookup: %+v %v", e, ok)
	}
	if _, ok := m.Lookup("other.safetensors"); ok {
		t.Error("Lookup found a file that is not listed")
	}
	if got := m.Dataset("mnist"); len(got) != 2 || got[0].Temperature != 1 {
		t.Errorf("Dataset(mnist) = %+v", got)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil || !slices.Equal(back.Models, m.Models) {
		t.Fatalf("parsed back %+v, %v", back, err)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct{ name, json, want string }{
		{"not JSON", `{"models": [`, "manifest.json"},
		{"path outside", `{"models": [{"file": "../x.safetensors"}]}`, "bad model file name"},
		{"folder", `{"models": [{"file": "a/x.safetensors"}]}`, "bad model file name"},
		{"no name", `{"models": [{"dataset": "mnist"}]}`, "bad model file name"},
		{"twice", `{"models": [{"file": "x.safetensors"}, {"file": "x.safetensors"}]}`, "listed twice"},
		{"wrong type", `{"models": [{"file": "x.safetensors", "step": "one"}]}`, "manifest.json"},
	} {
		if _, err := Parse([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := Read(fstest.MapFS{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a folder without a manifest: %v, want fs.ErrNotExist", err)
	}
}

// countingFS records how many bytes are read from its files.
type countingFS struct {
	fs.FS
	read *int64
}

type countingFile struct {
	fs.File
	read *int64
}

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	return countingFile{f, c.read}, err
}

func (c countingFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	*c.read += int64(n)
	return n, err
}

// TestReadFile: the file is checked against its entry, and a file of
// another size (here a sparse 1 GiB one) or something that is not a
// regular file is refused without reading it.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(dir + "/big.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Mkdir(dir+"/folder.safetensors", 0o755); err != nil {
		t.Fatal(err)
	}
	good := EntryFor("good.safetensors", Identity{}, []byte("model bytes"))
	os.WriteFile(dir+"/good.safetensors", []byte("model bytes"), 0o644)
	os.WriteFile(dir+"/flipped.safetensors", []byte("model bytez"), 0o644)
	flipped := good
	flipped.File = "flipped.safetensors"
	for _, c := range []struct {
		e      Entry
		want   string // "" for success
		noRead bool
	}{
		{good, "", false},
		{flipped, "SHA-256", false},
		{Entry{File: "big.safetensors", Bytes: 28000}, "1073741824 bytes", true},
		{Entry{File: "folder.safetensors", Bytes: 28000}, "not a regular file", true},
		{Entry{File: "missing.safetensors", Bytes: 1}, "no such file", true},
	} {
		var read int64
		b, err := ReadFile(countingFS{os.DirFS(dir), &read}, c.e)
		switch {
		case c.want == "" && (err != nil || string(b) != "model bytes"):
			t.Errorf("%s: %q, %v", c.e.File, b, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one mentioning %q", c.e.File, err, c.want)
		}
		if c.noRead && read > 0 {
			t.Errorf("%s: %d bytes read before the size was compared", c.e.File, read)
		}
	}
}

func TestWriteTable(t *testing.T) {
	m := &Manifest{}
	for _, c := range []struct {
		temp float64
		step int
		acc  float64
	}{{1, 0, 0.99}, {1, 1, 0.985}, {20, 0, 0.5}, {20, 3, 0.25}} {
		m.Put(EntryFor(ModelName("mnist", c.temp, c.step), Identity{Dataset: "mnist", Temperature: c.temp, Step: c.step, TestAccuracy: c.acc}, nil))
	}
	var b strings.Builder
	m.WriteTable(&b)
	want := `| mnist: T | teacher | assistant | student | step3 |
|---:|---:|---:|---:|---:|
| 1 | 99.00% | 98.50% | — | — |
| 20 | 50.00% | — | — | 25.00% |
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestCacheLoadsOnce: concurrent gets of a missing key run one load; a
// value is kept, a failure is shared by the gets that waited for it and
// then forgotten, so that the next get loads again.
func TestCacheLoadsOnce(t *testing.T) {
	for _, c := range []struct {
		key       string
		fail      bool
		wantLoads int32 // after the concurrent gets and one more
	}{
		{"good", false, 1},
		{"bad", true, 2},
	} {
		cache := NewCache[int](1 << 20)
		var loads atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				v, err := cache.Get(c.key, func() (int, int64, error) {
					loads.Add(1)
					time.Sleep(20 * time.Millisecond)
					if c.fail {
						return 0, 0, errors.New("broken")
					}
					return 7, 100, nil
				})
				if c.fail != (err != nil) || (!c.fail && v != 7) {
					t.Errorf("%s: %v %v", c.key, v, err)
				}
			})
		}
		wg.Wait()
		if _, ok := cache.Loaded(c.key); ok == c.fail {
			t.Errorf("%s: Loaded says %v", c.key, ok)
		}
		v, err := cache.Get(c.key, func() (int, int64, error) { loads.Add(1); return 8, 100, nil })
		if n := loads.Load(); n != c.wantLoads || err != nil || v != map[bool]int{false: 7, true: 8}[c.fail] {
			t.Errorf("%s: %d loads (want %d), then %v, %v", c.key, n, c.wantLoads, v, err)
		}
	}
}

// TestCacheBounded: the sizes kept never add up to more than the budget,
// the least recently used entry goes first, and a value larger than the
// whole budget is returned but not kept. A budget of 0 keeps everything.
func TestCacheBounded(t *testing.T) {
	c := NewCache[string](300)
	load := func(v string, size int64) func() (string, int64, error) {
		return func() (string, int64, error) { return v, size, nil }
	}
	c.Get("a", load("a", 100))
	c.Get("b", load("b", 100))
	c.Get("c", load("c", 100))
	c.Get("a", load("a2", 100)) // a is now the most recent
	c.Get("d", load("d", 100))  // b goes
	if c.size > c.budget {
		t.Fatalf("size %d over %d", c.size, c.budget)
	}
	for k, kept := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.Loaded(k); ok != kept {
			t.Errorf("%s: kept %v, want %v", k, ok, kept)
		}
	}
	if v, _ := c.Get("huge", load("huge", 1000)); v != "huge" {
		t.Errorf("huge value: %q", v)
	}
	if _, ok := c.Loaded("huge"); ok || c.size > c.budget {
		t.Errorf("a value over the budget was kept (size %d)", c.size)
	}
	if v, _ := c.Get("a", load("a3", 100)); v != "a" {
		t.Errorf("a was loaded again: %q", v)
	}
	all := NewCache[string](0)
	for _, k := range []string{"x", "y", "z"} {
		all.Get(k, load(k, 1<<40))
	}
	for _, k := range []string{"x", "y", "z"} {
		if v, ok := all.Loaded(k); !ok || v != k {
			t.Errorf("unbounded cache lost %s", k)
		}
	}
}
