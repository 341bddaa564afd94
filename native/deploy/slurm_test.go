package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// requireTools skips the test when a tool is missing, or fails it in CI
// (.ci/run installs them).
func requireTools(t *testing.T, pkg string, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join("/usr/sbin", tool)); err == nil {
			continue
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (Debian: %s; .ci/run installs it)", tool, pkg)
		}
		t.Skipf("%s not installed (Debian: %s)", tool, pkg)
	}
}

// buildTadd compiles the tadd binary into dir.
func buildTadd(t *testing.T, dir string, env ...string) string {
	t.Helper()
	bin := filepath.Join(dir, "tadd")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/tadd")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building tadd: %v\n%s", err, out)
	}
	return bin
}

func runOK(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestSlurmArrayEqualsSingleRun starts a single-node Slurm cluster
// (slurm/local-cluster.sh), submits a small reproduction (the tiny network,
// a chain of two models, 12 samples) as a 3-task job array with its merge
// job (slurm/submit.sh), and checks that the merged report equals a single
// run byte for byte. Then it requeues one finished task, as a preemption
// would, and checks that the rerun is served from that shard's cache.
func TestSlurmArrayEqualsSingleRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Slurm cluster")
	}
	requireTools(t, "slurm-wlm munge", "munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")
	work := t.TempDir()
	tadd := buildTadd(t, work)
	models := filepath.Join(work, "models")
	runOK(t, nil, tadd, "distill", "--arch", "tiny", "--temperature", "1", "--steps", "1", "--epochs", "1", "--train-samples", "500",
		"--quiet", "--offline", "--out", models)
	args := []string{"--models", models, "--temperatures", "1", "--steps", "1", "--quick", "--samples", "12", "--attack-samples", "3",
		"--attacks", "l2,linf", "--max-iterations", "100", "--quiet", "--offline"}
	single := filepath.Join(work, "single")
	runOK(t, nil, tadd, append(append([]string{"reproduce"}, args...), "--out", single)...)

	cluster := filepath.Join(work, "cluster")
	conf := "SLURM_CONF=" + filepath.Join(cluster, "slurm.conf")
	path := "PATH=" + os.Getenv("PATH") + ":/usr/sbin"
	runOK(t, []string{path}, "slurm/local-cluster.sh", "start", cluster)
	defer func() {
		if out, err := exec.Command("slurm/local-cluster.sh", "stop", cluster).CombinedOutput(); err != nil {
			t.Errorf("stopping the cluster: %v\n%s", err, out)
		}
	}()
	env := []string{conf, path, "TADD=" + tadd}
	out := filepath.Join(work, "sharded")
	ids := strings.Fields(runOK(t, env, "slurm/submit.sh", append([]string{"3", out}, args...)...))
	if len(ids) != 2 {
		t.Fatalf("submit.sh printed %q, want the array's and the merge job's ids", ids)
	}
	array, merge := ids[0], ids[1]
	waitDone(t, env, merge, 5*time.Minute)
	if state := jobState(t, env, merge); state != "COMPLETED" {
		logs, _ := filepath.Glob(filepath.Join(out, "slurm-*.out"))
		var b strings.Builder
		for _, l := range logs {
			c, _ := os.ReadFile(l)
			b.WriteString(l + ":\n" + string(c))
		}
		t.Fatalf("merge job %s: %s\n%s", merge, state, b.String())
	}
	for _, f := range []string{"results.json", "results.csv", "transfer.csv"} {
		want, err := os.ReadFile(filepath.Join(single, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, "report", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s of the Slurm array differs from the single run's:\n%s\nvs\n%s", f, got, want)
		}
	}

	// Preemption: a requeued task reruns in its folder from the cache.
	task := array + "_1"
	runOK(t, env, "scontrol", "requeue", task)
	// A requeued job waits two minutes before it may start again: now.
	runOK(t, env, "scontrol", "update", "JobId="+task, "StartTime=now")
	waitDone(t, env, task, 2*time.Minute)
	logs, _ := filepath.Glob(filepath.Join(out, "slurm-"+array+"_1.out"))
	if len(logs) != 1 {
		t.Fatalf("no log of task 1 in %s", out)
	}
	log, _ := os.ReadFile(logs[0])
	if n := strings.Count(string(log), "cached in"); n != 2 {
		t.Errorf("the requeued task found %d of its 2 models cached:\n%s", n, log)
	}
}

// waitDone polls until Slurm no longer lists the job as pending or running.
func waitDone(t *testing.T, env []string, job string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		switch s := jobState(t, env, job); s {
		case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "":
		default:
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not done after %v", job, limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

var jobStateField = regexp.MustCompile(`JobState=(\S+)`)

// jobState is the job's JobState in scontrol show job.
func jobState(t *testing.T, env []string, job string) string {
	t.Helper()
	cmd := exec.Command("scontrol", "show", "job", job)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scontrol show job %s: %v\n%s", job, err, out)
	}
	m := jobStateField.FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}
