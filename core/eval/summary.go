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

// Summarize aggregates samples (in index order): the attacks count every
// goal attacked on the correctly classified samples with an index below
// attackSample; their mean and maximum distance are over the successful
// ones.
func Summarize(samples []Sample, attacks []string, attackSample int) Summary {
	s := Summary{Samples: len(samples), Robustness: map[string]AttackResult{}}
	if len(samples) == 0 {
		return s
	}
	var correct int
	transfers, transferN := map[int]int{}, 0
	for _, x := range samples {
		if x.Correct {
			correct++
		}
		s.Confidence += x.Confidence
		s.MeanAmplitude += x.Amplitude
		if x.Amplitude < NearZeroThreshold {
			s.NearZero++
		}
		if x.Transfer != nil {
			transferN++
			for k, ok := range x.Transfer {
				if ok {
					transfers[k]++
				} else if _, seen := transfers[k]; !seen {
					transfers[k] = 0
				}
			}
		}
	}
	n := float64(len(samples))
	s.Accuracy, s.Confidence, s.MeanAmplitude, s.NearZero = float64(correct)/n, s.Confidence/n, s.MeanAmplitude/n, s.NearZero/n
	for _, a := range attacks {
		var r AttackResult
		for _, x := range samples {
			if x.Index >= attackSample || !x.Correct {
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
	if transferN > 0 {
		s.TransferRate = map[int]float64{}
		for k, c := range transfers {
			s.TransferRate[k] = float64(c) / float64(transferN)
		}
	}
	return s
}
