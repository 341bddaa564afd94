package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// job is the part of a Kubernetes batch/v1 Job the tests read.
type job struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct{ Name string }
	Spec       struct {
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		CompletionMode string `yaml:"completionMode"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Image        string   `yaml:"image"`
					Command      []string `yaml:"command"`
					Args         []string `yaml:"args"`
					VolumeMounts []struct {
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				}
			}
		}
	}
}

func readJob(t *testing.T, path string) job {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j job
	if err := yaml.Unmarshal(b, &j); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || len(j.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: not a one-container batch/v1 Job: %+v", path, j)
	}
	return j
}

// slurmCommand is the command line a Slurm array task (or the merge job)
// runs, captured by running the sbatch script with echo as tadd.
func slurmCommand(t *testing.T, script string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), append([]string{"TADD=echo"}, env...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return strings.Fields(string(out))
}

// TestKubernetesJobsMatchSlurm checks that the Indexed Job's pods run the
// command line of the Slurm array's tasks (the same shard contract), on the
// image build.sh makes, and that the merge Job merges every shard as the
// Slurm merge job does.
func TestKubernetesJobsMatchSlurm(t *testing.T) {
	shards := readJob(t, "kubernetes/reproduce-job.yaml")
	s := shards.Spec
	n := s.Completions
	if s.CompletionMode != "Indexed" || n < 2 || s.Parallelism != n || s.Template.Spec.RestartPolicy != "OnFailure" {
		t.Fatalf("reproduce job spec %+v: want an Indexed Job, completions = parallelism, restarted on failure", s)
	}
	c := s.Template.Spec.Containers[0]
	buildSh, err := os.ReadFile("../../build.sh")
	if err != nil {
		t.Fatal(err)
	}
	if def := regexp.MustCompile(`TADD_IMAGE:-([^}]+)}`).FindSubmatch(buildSh); def == nil || c.Image != string(def[1]) {
		t.Errorf("the Job runs image %q, build.sh image builds %q", c.Image, def)
	}
	if len(c.Command) != 0 || len(c.Args) == 0 || c.Args[0] != "reproduce" {
		t.Fatalf("container command %q args %q: want the image's /tadd entrypoint with reproduce args", c.Command, c.Args)
	}
	// The flags before --shard are the Slurm array's TADD_ARGS.
	var flags []string
	for _, a := range c.Args[1:] {
		if a == "--shard" {
			break
		}
		flags = append(flags, a)
	}
	for _, i := range []int{0, n - 1} {
		var pod []string
		for _, a := range c.Args {
			pod = append(pod, strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
		}
		task := slurmCommand(t, "slurm/tadd-reproduce.sbatch", "TADD_OUT=/results", "TADD_SHARDS="+strconv.Itoa(n),
			"SLURM_ARRAY_TASK_ID="+strconv.Itoa(i), "TADD_ARGS="+strings.Join(flags, " "))
		if strings.Join(pod, " ") != strings.Join(task, " ") {
			t.Errorf("pod %d runs\n  tadd %s\nSlurm task %d runs\n  tadd %s", i, strings.Join(pod, " "), i, strings.Join(task, " "))
		}
	}

	merge := readJob(t, "kubernetes/merge-job.yaml")
	mc := merge.Spec.Template.Spec.Containers[0]
	want := slurmCommand(t, "slurm/tadd-merge.sbatch", "TADD_OUT=/results", "TADD_SHARDS="+strconv.Itoa(n))
	if mc.Image != c.Image || strings.Join(mc.Args, " ") != strings.Join(want, " ") {
		t.Errorf("merge Job runs %s %q, the Slurm merge job runs %q", mc.Image, mc.Args, want)
	}
	for _, j := range []job{shards, merge} {
		if m := j.Spec.Template.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].MountPath != "/results" {
			t.Errorf("%s: want /results mounted, got %+v", j.Metadata.Name, m)
		}
	}
}
