package distill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/kernel"
	"github.com/tadd-project/tadd/core/nn"
	"github.com/tadd-project/tadd/core/train"
	"github.com/tadd-project/tadd/core/weights"
)

// memStore keeps models in memory, as copies of their parameters.
type memStore struct {
	models map[int]saved
	ckpts  map[int]saved
	saves  int
}

type saved struct {
	params []float32
	meta   weights.Metadata
	ckpt   weights.Checkpoint
}

func newMemStore() *memStore { return &memStore{models: map[int]saved{}, ckpts: map[int]saved{}} }

func (s *memStore) build(sv saved, kern kernel.Kernels) *nn.Model {
	a, _ := nn.ArchByName(sv.meta.Arch)
	if sv.meta.Arch == "tiny" {
		a = nn.TinyArchFor(nn.Shape{H: 16, W: 16, C: 1})
	}
	m, _ := nn.New(a, kern)
	copy(m.Params, sv.params)
	return m
}

func (s *memStore) Model(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, error) {
	sv, ok := s.models[step]
	if !ok {
		return nil, weights.Metadata{}, ErrMissing
	}
	return s.build(sv, kern), sv.meta, nil
}

func (s *memStore) SaveModel(step int, m *nn.Model, meta weights.Metadata) error {
	s.saves++
	s.models[step] = saved{params: append([]float32(nil), m.Params...), meta: meta}
	return nil
}

func (s *memStore) Checkpoint(step int, kern kernel.Kernels) (*nn.Model, weights.Metadata, weights.Checkpoint, error) {
	sv, ok := s.ckpts[step]
	if !ok {
		return nil, weights.Metadata{}, weights.Checkpoint{}, ErrMissing
	}
	return s.build(sv, kern), sv.meta, sv.ckpt, nil
}

func (s *memStore) SaveCheckpoint(step int, m *nn.Model, meta weights.Metadata, c weights.Checkpoint) error {
	c.Velocity = append([]float32(nil), c.Velocity...)
	s.ckpts[step] = saved{params: append([]float32(nil), m.Params...), meta: meta, ckpt: c}
	return nil
}

func (s *memStore) RemoveCheckpoint(step int) error { delete(s.ckpts, step); return nil }
func (s *memStore) Name(step int) string            { return fmt.Sprintf("step%d", step) }

func chain(steps int) Chain {
	cfg := train.DefaultConfig(5)
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate, cfg.Workers, cfg.Seed = 12, 32, 0.1, 2, 4
	return Chain{Dataset: "bars", Arch: nn.TinyArchFor(nn.Shape{H: 16, W: 16, C: 1}), Steps: steps, Config: cfg}
}

func TestChainTrainsEveryStep(t *testing.T) {
	trainSet, testSet := data.Bars(640, 16, 1), data.Bars(200, 16, 2)
	store := newMemStore()
	var events []Event
	metas, err := Run(context.Background(), chain(2), trainSet, testSet, store, nil, func(e Event) {
		if e.Done != nil {
			events = append(events, e)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"teacher", "assistant", "student"}
	if len(metas) != 3 || len(events) != 3 {
		t.Fatalf("%d models, %d done events", len(metas), len(events))
	}
	for i, m := range metas {
		if m.Role != want[i] || m.Step != i || m.Temperature != 5 || m.Epochs != 12 {
			t.Errorf("model %d: %+v", i, m)
		}
		if i > 0 && m.Parent != fmt.Sprintf("step%d", i-1) {
			t.Errorf("model %d parent %q", i, m.Parent)
		}
		if m.TestAccuracy < 0.9 {
			t.Errorf("%s test accuracy %v < 0.9", m.Role, m.TestAccuracy)
		}
	}
	if metas[1].Seed == metas[0].Seed {
		t.Error("assistant initialised like the teacher")
	}
	// Running again trains nothing.
	saves := store.saves
	if _, err := Run(context.Background(), chain(2), trainSet, testSet, store, nil, nil); err != nil || store.saves != saves {
		t.Fatalf("rerun: err %v, %d new saves", err, store.saves-saves)
	}
}

// TestChainResumesExactly interrupts a chain in the middle of the
// assistant and checks that resuming gives the same weights as an
// uninterrupted chain.
func TestChainResumesExactly(t *testing.T) {
	trainSet, testSet := data.Bars(640, 16, 1), data.Bars(200, 16, 2)
	straight := newMemStore()
	if _, err := Run(context.Background(), chain(1), trainSet, testSet, straight, nil, nil); err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, chain(1), trainSet, testSet, store, nil, func(e Event) {
		if e.Step == 1 && e.Progress.Epoch == 5 && e.Progress.Batch == 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want canceled", err)
	}
	if _, ok := store.models[0]; !ok || store.ckpts[1].ckpt.Epoch != 4 {
		t.Fatalf("after interrupt: teacher saved %v, assistant checkpoint at epoch %d", ok, store.ckpts[1].ckpt.Epoch)
	}
	resumed := false
	if _, err := Run(context.Background(), chain(1), trainSet, testSet, store, nil, func(e Event) {
		if e.Step == 1 && e.Resumed {
			resumed = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !resumed {
		t.Fatal("assistant did not resume from its checkpoint")
	}
	a, b := straight.models[1].params, store.models[1].params
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("param %d: uninterrupted %v, resumed %v", i, a[i], b[i])
		}
	}
}

func TestChainRejectsBadSteps(t *testing.T) {
	c := chain(7)
	if _, err := Run(context.Background(), c, data.Bars(10, 16, 1), data.Bars(10, 16, 1), newMemStore(), nil, nil); err == nil {
		t.Fatal("7 steps accepted")
	}
}

// TestChainChecksTheDatasetsFirst: a test set of another image shape is an
// error before any model is trained (it used to panic after the teacher's
// training, in the accuracy measurement, losing the work).
func TestChainChecksTheDatasetsFirst(t *testing.T) {
	store := newMemStore()
	var trained int
	_, err := Run(context.Background(), chain(1), data.Bars(64, 16, 1), data.Bars(10, 14, 2), store, nil, func(e Event) {
		if e.Progress.Batch > 0 {
			trained++
		}
	})
	if err == nil || !strings.Contains(err.Error(), "14×14×1") {
		t.Fatalf("error %v, want one naming the test set's shape", err)
	}
	if trained > 0 || store.saves > 0 || len(store.ckpts) > 0 {
		t.Fatalf("%d batches trained, %d models saved before the check", trained, store.saves)
	}
}

func TestTeacherEpochs(t *testing.T) {
	trainSet, testSet := data.Bars(320, 16, 1), data.Bars(100, 16, 2)
	c := chain(1)
	c.Config.Epochs, c.TeacherEpochs = 2, 5
	var epochs []int // the number of epochs each model announced while training
	metas, err := Run(context.Background(), c, trainSet, testSet, newMemStore(), nil, func(e Event) {
		if e.Progress.Batch == 1 && e.Progress.Epoch == 1 {
			epochs = append(epochs, e.Progress.Epochs)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if metas[0].Epochs != 5 || metas[1].Epochs != 2 || len(epochs) != 2 || epochs[0] != 5 || epochs[1] != 2 {
		t.Fatalf("teacher %d epochs, assistant %d, announced %v; want 5, 2", metas[0].Epochs, metas[1].Epochs, epochs)
	}
	c.TeacherEpochs = -1
	if _, err := Run(context.Background(), c, trainSet, testSet, newMemStore(), nil, nil); err == nil {
		t.Fatal("negative teacher epochs accepted")
	}
}

// TestChainMeasuresShippedWeights checks that a chain kept in F16 measures
// test accuracy on (and distils from) the F16-rounded weights, as a loaded
// file gives them, not on the float32 weights training ended with.
func TestChainMeasuresShippedWeights(t *testing.T) {
	trainSet, testSet := data.Bars(640, 16, 1), data.Bars(200, 16, 2)
	store := newMemStore()
	c := chain(1)
	c.DType = weights.F16
	metas, err := Run(context.Background(), c, trainSet, testSet, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for step, meta := range metas {
		sv := store.models[step]
		rounded := append([]float32(nil), sv.params...)
		weights.Round(rounded, weights.F16)
		for i := range rounded {
			if rounded[i] != sv.params[i] {
				t.Fatalf("step %d: parameter %d is %v, not an F16 value", step, i, sv.params[i])
			}
		}
		if acc := train.Accuracy(nn.NewWorkers(store.build(sv, nil), 2), testSet); acc != meta.TestAccuracy {
			t.Errorf("step %d: metadata says %v, the stored weights score %v", step, meta.TestAccuracy, acc)
		}
	}
}
