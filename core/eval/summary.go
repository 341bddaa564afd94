package eval

import "math"

// Summary aggregates the samples of one model.
type Summary struct {
	Samples       int                     `json:"samples"`
	Accuracy      float64                 `json:"accuracy"`
	Confidence    float64                 `json:"confidence"`
	MeanAmplitude float64                 `json:"mean_amplitude"`
	NearZero      float64                 `json:"near_zero_fraction"`
	Robustness    map[string]AttackResult `json:"robustness"`
	TransferRate  map[int]float64         `json:"transfer_rate,omitempty"` // by target step: share of L2 adversarials that fool it
}

// AttackResult summarises one attack.
type AttackResult struct {
	Attempts    int     `json:"attempts"`
	Successes   int     `json:"successes"`
	SuccessRate float64 `json:"success_rate"`
	Mean        float64 `json:"mean"`
	Max         float64 `json:"max"`
}

// Summarize aggregates samples (in index order): each attack counts every
// goal attacked on the correctly classified samples with an index below
// its count (attacked.Of); their mean and maximum distance are over the
// successful ones. A sample beyond an attack's count was not attacked and
// does not count.
func Summarize(samples []Sample, attacks []string, attacked Counts) Summary {
	s := Summary{Samples: len(samples), Robustness: map[string]AttackResult{}}
	if len(samples) == 0 {
		return s
	}
	var correct int
	transfers, transferN := map[int]int{}, map[int]int{} // by step: fooled, measured
	for _, x := range samples {
		if x.Correct {
			correct++
		}
		s.Confidence += x.Confidence
		s.MeanAmplitude += x.Amplitude
		if x.Amplitude < NearZeroThreshold {
			s.NearZero++
		}
		for k, ok := range x.Transfer {
			transferN[k]++
			if ok {
				transfers[k]++
			}
		}
	}
	n := float64(len(samples))
	s.Accuracy, s.Confidence, s.MeanAmplitude, s.NearZero = float64(correct)/n, s.Confidence/n, s.MeanAmplitude/n, s.NearZero/n
	for _, a := range attacks {
		var r AttackResult
		for _, x := range samples {
			if x.Index >= attacked.Of(a) || !x.Correct {
				continue
			}
			for _, at := range x.Attempts() {
				r.Attempts++
				if d := float64(at.Distance[a]); !math.IsNaN(d) {
					r.Successes++
					r.Mean += d
					r.Max = math.Max(r.Max, d)
				}
			}
		}
		if r.Successes > 0 {
			r.Mean /= float64(r.Successes)
		}
		if r.Attempts > 0 {
			r.SuccessRate = float64(r.Successes) / float64(r.Attempts)
		}
		s.Robustness[a] = r
	}
	if len(transferN) > 0 {
		s.TransferRate = map[int]float64{}
		for k, n := range transferN {
			s.TransferRate[k] = float64(transfers[k]) / float64(n)
		}
	}
	return s
}
