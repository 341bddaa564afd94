package attack

import (
	"context"
	"fmt"
)

// slot is one image's attack inside a batch, written as a state machine
// that advances one gradient evaluation at a time, so that many images,
// each following exactly its own schedule, share every forward and
// backward pass.
type slot interface {
	// done says whether the attack has finished.
	done() bool
	// image returns the iterate x' whose logits and input gradient the
	// attack needs next (valid until update).
	image() []float32
	// weights fills w, the gradient of the attack's loss with respect to
	// the logits z of that iterate.
	weights(z, w []float32)
	// update takes the input gradient of Σ_j w_j·z_j at the iterate and its
	// logits, and advances the attack by one iteration.
	update(grad, z []float32)
	// result is the attack's outcome, once done.
	result() Result
}

// runSlots runs the attacks of jobs images through batches of at most size
// slots: each round evaluates the iterates of every busy slot in one
// Gradient call, and a slot whose attack finishes takes the next job from
// the queue, so the batch stays full until the queue runs dry. start makes
// the attack of job j; finished, if set, hears of each job as it ends. Results are in job order; they do not depend on size
// (each job follows its own algorithm, and the classifier's kernels give an
// image the same logits whatever its place in a batch).
func runSlots(ctx context.Context, clf Classifier, jobs, size int, start func(j int) slot, finished func(j int, r Result)) ([]Result, error) {
	if size < 1 {
		return nil, fmt.Errorf("attack: batch size %d", size)
	}
	h, w, c := clf.InputShape()
	is, k := h*w*c, clf.Classes()
	results := make([]Result, jobs)
	type busy struct {
		job int
		s   slot
	}
	var slots []busy
	next := 0
	// fill replaces finished slots by new jobs (which may finish at once).
	fill := func() {
		for i := 0; i < len(slots); {
			if !slots[i].s.done() {
				i++
				continue
			}
			results[slots[i].job] = slots[i].s.result()
			if finished != nil {
				finished(slots[i].job, results[slots[i].job])
			}
			slots = append(slots[:i], slots[i+1:]...)
		}
		for len(slots) < size && next < jobs {
			s := start(next)
			if s.done() {
				results[next] = s.result()
				if finished != nil {
					finished(next, results[next])
				}
			} else {
				slots = append(slots, busy{next, s})
			}
			next++
		}
	}
	x := make([]float32, size*is)
	g := make([]float32, size*is)
	z := make([]float32, size*k)
	for fill(); len(slots) > 0; fill() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := len(slots)
		for i, b := range slots {
			copy(x[i*is:(i+1)*is], b.s.image())
		}
		clf.Gradient(g[:n*is], z[:n*k], x[:n*is], n, func(i int, zi, wi []float32) { slots[i].s.weights(zi, wi) })
		for i, b := range slots {
			b.s.update(g[i*is:(i+1)*is], z[i*k:(i+1)*k])
		}
	}
	return results, nil
}

// runBatch checks a batch of images x and one goal each, and runs the
// attack that start makes for each image through runSlots, size at a time
// (batchSize when size <= 0).
func runBatch(ctx context.Context, clf Classifier, x []float32, goals []Goal, size int,
	start func(j int, x []float32, g Goal) slot, finished func(j int, r Result)) ([]Result, error) {
	n := len(goals)
	if err := checkInput(clf, x, n); err != nil {
		return nil, err
	}
	for _, g := range goals {
		if err := checkGoal(clf, g); err != nil {
			return nil, err
		}
	}
	if size <= 0 {
		size = batchSize
	}
	is := len(x) / n
	return runSlots(ctx, clf, n, size, func(j int) slot { return start(j, x[j*is:(j+1)*is], goals[j]) }, finished)
}

// batchSize is the number of images attacks evaluate together by default:
// enough for the GEMMs to run near the machine's peak on the MNIST net,
// small enough that a batch's activations stay in cache.
const batchSize = 32
