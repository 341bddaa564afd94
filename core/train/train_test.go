package train

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/tadd-project/tadd/core/data"
	"github.com/tadd-project/tadd/core/nn"
)

func tinyJob(t *testing.T, epochs int) (Job, *data.Set) {
	m, err := nn.New(nn.TinyArchFor(nn.Shape{H: 16, W: 16, C: 1}), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(4)
	cfg := DefaultConfig(1)
	cfg.Epochs = epochs
	cfg.BatchSize = 32
	cfg.LearningRate = 0.05
	cfg.Workers = 2
	return Job{Model: m, Train: data.Bars(640, 16, 1), Config: cfg}, data.Bars(200, 16, 99)
}

func TestTrainLearnsAndReportsProgress(t *testing.T) {
	job, test := tinyJob(t, 6)
	var reports []Progress
	job.Progress = func(p Progress) { reports = append(reports, p) }
	st, err := Run(context.Background(), job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch != 6 || st.Iterations != 6*20 {
		t.Fatalf("state %d epochs %d iterations", st.Epoch, st.Iterations)
	}
	if len(reports) != 6*20 || !reports[19].EpochDone || reports[0].Batches != 20 {
		t.Fatalf("%d progress reports", len(reports))
	}
	first, last := reports[19], reports[len(reports)-1]
	if !(last.Loss < first.Loss/2) {
		t.Fatalf("loss went from %v to %v", first.Loss, last.Loss)
	}
	if acc := Accuracy(nn.NewWorkers(job.Model, 2), test); acc < 0.95 {
		t.Fatalf("test accuracy %v < 0.95", acc)
	}
}

func TestSameSeedSameWeights(t *testing.T) {
	a, _ := tinyJob(t, 2)
	b, _ := tinyJob(t, 2)
	if _, err := Run(context.Background(), a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), b, nil); err != nil {
		t.Fatal(err)
	}
	for i := range a.Model.Params {
		if a.Model.Params[i] != b.Model.Params[i] {
			t.Fatalf("param %d differs: %v vs %v", i, a.Model.Params[i], b.Model.Params[i])
		}
	}
}

// TestResumeIsExact trains 3 epochs straight, and 1 epoch then a resumed
// 2 more from the saved state: the weights must be identical.
func TestResumeIsExact(t *testing.T) {
	straight, _ := tinyJob(t, 3)
	if _, err := Run(context.Background(), straight, nil); err != nil {
		t.Fatal(err)
	}
	first, _ := tinyJob(t, 3)
	var saved *State
	var savedParams []float32
	ctx, cancel := context.WithCancel(context.Background())
	first.Checkpoint = func(s *State) error {
		saved = &State{Epoch: s.Epoch, Iterations: s.Iterations, Workers: s.Workers, Velocity: append([]float32(nil), s.Velocity...)}
		savedParams = append([]float32(nil), first.Model.Params...)
		cancel() // interrupted during epoch 2
		return nil
	}
	st, err := Run(ctx, first, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if st.Epoch != 1 || saved.Epoch != 1 {
		t.Fatalf("returned state at epoch %d, saved at %d; want 1", st.Epoch, saved.Epoch)
	}
	resumed, _ := tinyJob(t, 3)
	copy(resumed.Model.Params, savedParams)
	if _, err := Run(context.Background(), resumed, saved); err != nil {
		t.Fatal(err)
	}
	for i := range straight.Model.Params {
		if straight.Model.Params[i] != resumed.Model.Params[i] {
			t.Fatalf("param %d: straight %v, resumed %v", i, straight.Model.Params[i], resumed.Model.Params[i])
		}
	}
}

// TestResumeChecksTheWorkerCount: the gradient sum's rounding depends on
// the number of replicas, so a checkpoint records it and a run with
// another count refuses to resume from it.
func TestResumeChecksTheWorkerCount(t *testing.T) {
	job, _ := tinyJob(t, 2) // 2 workers
	var saved *State
	job.Checkpoint = func(s *State) error {
		if saved == nil {
			saved = &State{Epoch: s.Epoch, Iterations: s.Iterations, Workers: s.Workers, Velocity: append([]float32(nil), s.Velocity...)}
		}
		return nil
	}
	if _, err := Run(context.Background(), job, nil); err != nil {
		t.Fatal(err)
	}
	if saved.Workers != 2 {
		t.Fatalf("checkpoint records %d workers, want 2", saved.Workers)
	}
	one, _ := tinyJob(t, 2)
	one.Config.Workers = 1
	_, err := Run(context.Background(), one, saved)
	var we *WorkersError
	if !errors.As(err, &we) || we.Checkpoint != 2 || we.Run != 1 {
		t.Fatalf("resume on 1 worker from a 2-worker checkpoint: %v", err)
	}
	// A checkpoint that does not say (written before the count was kept) resumes.
	saved.Workers = 0
	if _, err := Run(context.Background(), one, saved); err != nil {
		t.Fatal(err)
	}
}

func TestSoftLabelsAtTemperature(t *testing.T) {
	// The gradient at T carries a factor 1/T; the learning rate is doubled
	// here so that this small test converges in a few epochs.
	const temp = 5
	teacher, test := tinyJob(t, 12)
	teacher.Config.Temperature = temp
	teacher.Config.LearningRate *= 2
	if _, err := Run(context.Background(), teacher, nil); err != nil {
		t.Fatal(err)
	}
	if acc := Accuracy(nn.NewWorkers(teacher.Model, 2), test); acc < 0.95 {
		t.Fatalf("teacher at T=%d: accuracy %v < 0.95", temp, acc)
	}
	soft := nn.NewWorkers(teacher.Model, 2).Probabilities(teacher.Train.Images, teacher.Train.Len(), temp)
	student, _ := tinyJob(t, 12)
	student.Model.Init(5) // another init than the teacher's (seed 4)
	student.Targets = soft
	student.Config.Temperature = temp
	student.Config.LearningRate *= 2
	if _, err := Run(context.Background(), student, nil); err != nil {
		t.Fatal(err)
	}
	if acc := Accuracy(nn.NewWorkers(student.Model, 2), test); acc < 0.95 {
		t.Fatalf("distilled student accuracy %v < 0.9", acc)
	}
}

// configErrors are schedules that cannot train, with the Config field
// their error names.
var configErrors = []struct {
	name  string
	edit  func(c *Config)
	field string
}{
	{"zero epochs", func(c *Config) { c.Epochs = 0 }, "Epochs"},
	{"negative epochs", func(c *Config) { c.Epochs = -1 }, "Epochs"},
	{"zero batch", func(c *Config) { c.BatchSize = 0 }, "BatchSize"},
	{"negative lr", func(c *Config) { c.LearningRate = -1 }, "LearningRate"},
	{"NaN lr", func(c *Config) { c.LearningRate = math.NaN() }, "LearningRate"},
	{"NaN momentum", func(c *Config) { c.Momentum = math.NaN() }, "Momentum"},
	{"momentum 1", func(c *Config) { c.Momentum = 1 }, "Momentum"},
	{"NaN decay", func(c *Config) { c.Decay = math.NaN() }, "Decay"},
	{"infinite decay", func(c *Config) { c.Decay = math.Inf(1) }, "Decay"},
	{"negative decay", func(c *Config) { c.Decay = -1e-6 }, "Decay"},
	{"zero temperature", func(c *Config) { c.Temperature = 0 }, "Temperature"},
	{"denormal temperature", func(c *Config) { c.Temperature = 1e-45 }, "Temperature"},
	{"huge temperature", func(c *Config) { c.Temperature = 1e6 }, "Temperature"},
	{"negative workers", func(c *Config) { c.Workers = -2 }, "Workers"},
}

func TestConfigValidateNamesTheField(t *testing.T) {
	if err := DefaultConfig(20).Validate(); err != nil {
		t.Fatalf("the paper's schedule: %v", err)
	}
	for _, c := range configErrors {
		cfg := DefaultConfig(20)
		c.edit(&cfg)
		err := cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%s: error %v, want a *ConfigError for %s", c.name, err, c.field)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	job, _ := tinyJob(t, 1)
	cases := []struct {
		name string
		edit func(j *Job)
	}{
		{"zero batch", func(j *Job) { j.Config.BatchSize = 0 }},
		{"negative lr", func(j *Job) { j.Config.LearningRate = -1 }},
		{"zero temperature", func(j *Job) { j.Config.Temperature = 0 }},
		{"momentum 1", func(j *Job) { j.Config.Momentum = 1 }},
		{"empty set", func(j *Job) { j.Train = &data.Set{H: 16, W: 16, C: 1} }},
		{"wrong image size", func(j *Job) {
			j.Train = &data.Set{H: 28, W: 28, C: 1, Images: make([]float32, 784), Labels: []uint8{1}}
		}},
		{"short targets", func(j *Job) { j.Targets = make([]float32, 10) }},
	}
	for _, c := range configErrors {
		cases = append(cases, struct {
			name string
			edit func(j *Job)
		}{c.name, func(j *Job) { c.edit(&j.Config) }})
	}
	for _, c := range cases {
		j := job
		c.edit(&j)
		if _, err := Run(context.Background(), j, nil); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
