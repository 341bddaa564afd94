package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestWilsonAgainstNewcombe checks the Wilson interval against Newcombe
// (1998), "Two-sided confidence intervals for the single proportion",
// Table I, method 3.
func TestWilsonAgainstNewcombe(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		e := Wilson(c.k, c.n, Level)
		if !near(e.CI.Lo, c.lo, 5e-5) || !near(e.CI.Hi, c.hi, 5e-5) || e.Value != float64(c.k)/float64(c.n) {
			t.Errorf("Wilson(%d, %d) = %v, want [%.4f, %.4f]", c.k, c.n, e, c.lo, c.hi)
		}
	}
	if e := Wilson(0, 0, Level); !math.IsNaN(e.Value) || e.CI != (Interval{0, 1}) {
		t.Errorf("Wilson(0, 0) = %v", e)
	}
}

// subsetSum returns distinct values of 1..n summing to s (greedy from the top).
func subsetSum(n, s int) map[int]bool {
	in := map[int]bool{}
	for v := n; v >= 1 && s > 0; v-- {
		if v <= s {
			in[v] = true
			s -= v
		}
	}
	return in
}

// TestWilcoxonAgainstTable checks the exact test against the published
// critical values of the signed-rank statistic for a two-sided test at
// α = 0.05 (e.g. Wilcoxon, Katti & Wilcox 1970; the table in every
// textbook): W ≤ critical is significant, W = critical + 1 is not.
func TestWilcoxonAgainstTable(t *testing.T) {
	critical := map[int]int{6: 0, 7: 2, 8: 3, 9: 5, 10: 8, 11: 10, 12: 13, 13: 17, 14: 21, 15: 25, 20: 52, 25: 89, 30: 137}
	for n, crit := range critical {
		for _, w := range []int{crit, crit + 1} {
			// Differences ±1..±n with the ranks in the subset positive: W+ = w.
			pos := subsetSum(n, w)
			d := make([]float64, n)
			for v := 1; v <= n; v++ {
				d[v-1] = -float64(v)
				if pos[v] {
					d[v-1] = float64(v)
				}
			}
			gotW, gotN, p, exact := Wilcoxon(d)
			if gotW != float64(w) || gotN != n || !exact {
				t.Fatalf("n=%d: W %v, n %d, exact %v; want W %d", n, gotW, gotN, exact, w)
			}
			if significant := p <= 0.05; significant != (w == crit) {
				t.Errorf("n=%d W=%d: p = %.4f, table's critical value is %d", n, w, p, crit)
			}
		}
	}
	// All ten differences positive: p = 2/2¹⁰.
	d := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if _, _, p, _ := Wilcoxon(d); !near(p, 2.0/1024, 1e-12) {
		t.Errorf("all positive, n=10: p = %v, want %v", p, 2.0/1024)
	}
	// Zeros are dropped.
	if w, n, p, _ := Wilcoxon([]float64{0, 0, 0}); w != 0 || n != 0 || p != 1 {
		t.Errorf("all zero: W %v n %d p %v", w, n, p)
	}
}

// TestWilcoxonTiesByEnumeration checks the exact p-value with tied
// magnitudes against a brute-force enumeration of all 2ⁿ sign patterns.
func TestWilcoxonTiesByEnumeration(t *testing.T) {
	d := []float64{0.5, -0.5, 1, 1, -2, 3, 3, 3, -4, 0, 0.5, 5}
	_, n, p, exact := Wilcoxon(d)
	if !exact || n != 11 {
		t.Fatalf("n %d exact %v", n, exact)
	}
	// Average ranks of |d| without the zero: 0.5×3 → 2, 1×2 → 4.5, 2 → 6, 3×3 → 8, 4 → 10, 5 → 11.
	ranks := []float64{2, 2, 4.5, 4.5, 6, 8, 8, 8, 10, 2, 11}
	signs := []bool{true, false, true, true, false, true, true, true, false, true, true}
	var total, obs float64
	for i, r := range ranks {
		total += r
		if signs[i] {
			obs += r
		}
	}
	far, hits := math.Abs(obs-total/2), 0
	for mask := 0; mask < 1<<len(ranks); mask++ {
		var s float64
		for i, r := range ranks {
			if mask&(1<<i) != 0 {
				s += r
			}
		}
		if math.Abs(s-total/2) >= far-1e-9 {
			hits++
		}
	}
	if want := float64(hits) / float64(int(1)<<len(ranks)); !near(p, want, 1e-12) {
		t.Errorf("p = %v, enumeration gives %v", p, want)
	}
}

// TestWilcoxonNormalApproximation checks that above the exact limit the
// normal approximation agrees with the exact distribution at the limit.
func TestWilcoxonNormalApproximation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 5 {
		d := make([]float64, exactLimit+1)
		for i := range d {
			d[i] = rng.NormFloat64() + 0.3
		}
		_, _, approx, exact := Wilcoxon(d)
		if exact {
			t.Fatal("n = 51 used the exact distribution")
		}
		_, _, pExact, _ := Wilcoxon(d[:exactLimit])
		approx50 := normalOf(d[:exactLimit])
		if !near(approx50, pExact, 0.01) {
			t.Errorf("trial %d: n=50 exact p %.4f, normal approximation %.4f", trial, pExact, approx50)
		}
		if approx < 0 || approx > 1 {
			t.Errorf("trial %d: p %v", trial, approx)
		}
	}
}

// normalOf runs the normal approximation on d whatever its length.
func normalOf(d []float64) float64 {
	rank2, w2, tie := signedRanks(d)
	return normalSignedRankP(len(rank2), float64(w2)/2, tie)
}

func TestMcNemarExact(t *testing.T) {
	for _, c := range []struct {
		a, b int
		p    float64
	}{
		{1, 9, 2 * 11.0 / 1024}, // 2·(C(10,0)+C(10,1))/2¹⁰
		{9, 1, 2 * 11.0 / 1024},
		{5, 5, 1},
		{0, 0, 1},
		{0, 6, 2.0 / 64},
		{40, 60, 0.0569}, // exact binomial, n = 100 (R: binom.test(40, 100))
	} {
		if got := McNemar(c.a, c.b); !near(got, c.p, 5e-5) {
			t.Errorf("McNemar(%d, %d) = %.6f, want %.6f", c.a, c.b, got, c.p)
		}
	}
}

func TestBootstrap(t *testing.T) {
	// Two values: resampled means are 0, 1/2, 1 with probabilities 1/4,
	// 1/2, 1/4, so the central 40% interval is [1/2, 1/2] and the 95% one [0, 1].
	xs := []float64{0, 1}
	if e := Bootstrap(xs, Mean, 4000, 0.4, 1); e.CI != (Interval{0.5, 0.5}) || e.Value != 0.5 {
		t.Errorf("40%% interval %v", e)
	}
	if e := Bootstrap(xs, Mean, 4000, 0.95, 1); e.CI != (Interval{0, 1}) {
		t.Errorf("95%% interval %v", e)
	}
	// A constant sample has a zero-width interval.
	if e := Bootstrap([]float64{3, 3, 3}, Median, 100, Level, 1); e.CI != (Interval{3, 3}) {
		t.Errorf("constant %v", e)
	}
	// Same seed, same interval; the mean of 1..100 (50.5, sd 29.0) has a
	// 95% interval about ±1.96·29/10 = ±5.7 wide.
	var r []float64
	for i := 1; i <= 100; i++ {
		r = append(r, float64(i))
	}
	a, b := Bootstrap(r, Mean, Resamples, Level, 7), Bootstrap(r, Mean, Resamples, Level, 7)
	if a != b {
		t.Errorf("same seed: %v and %v", a, b)
	}
	if !a.CI.Contains(50.5) || !near(a.CI.Hi-a.CI.Lo, 2*5.7, 1.5) {
		t.Errorf("mean of 1..100: %v", a)
	}
	sq := make([]float64, len(r))
	for i, v := range r {
		sq[i] = math.Sqrt(v)
	}
	if c, d := Bootstrap(sq, Mean, Resamples, Level, 7), Bootstrap(sq, Mean, Resamples, Level, 8); c == d {
		t.Errorf("another seed gave the same interval %v", c)
	}
	if e := Bootstrap(nil, Mean, 10, Level, 1); !math.IsNaN(e.Value) || !math.IsNaN(e.CI.Lo) {
		t.Errorf("empty %v", e)
	}
}

func TestBootstrapMeanOfMeans(t *testing.T) {
	// One group draws as Bootstrap does with the same seed.
	g := []float64{0.3, 1.2, 0.7, 2.5, 1.1, 0.9}
	if a, b := BootstrapMeanOfMeans([][]float64{g}, 500, Level, 4), Bootstrap(g, Mean, 500, Level, 4); a != b {
		t.Errorf("one group %v, Bootstrap %v", a, b)
	}
	// The value is the mean of the group means (2 and 11: 6.5), not of
	// the pooled values (8.75); an empty group is left out.
	e := BootstrapMeanOfMeans([][]float64{{1, 3}, nil, {10, 12, 10, 12, 11, 11}}, Resamples, Level, 1)
	if e.Value != 6.5 || !e.CI.Contains(6.5) {
		t.Errorf("mean of means %v, want 6.5 inside its interval", e)
	}
	// Constant groups: a zero-width interval at the mean of the constants.
	if e := BootstrapMeanOfMeans([][]float64{{2, 2}, {4, 4, 4}}, 100, Level, 1); e.CI != (Interval{3, 3}) {
		t.Errorf("constant groups %v", e)
	}
	// Two values in each of two groups: each group mean is 0, 1/2 or 1
	// (probabilities 1/4, 1/2, 1/4); their average reaches 0 and 1 with
	// probability 1/16 each, so the central 80% interval is [1/4, 3/4].
	if e := BootstrapMeanOfMeans([][]float64{{0, 1}, {0, 1}}, 8000, 0.8, 3); e.CI != (Interval{0.25, 0.75}) {
		t.Errorf("80%% interval %v, want [0.25, 0.75]", e)
	}
	if e := BootstrapMeanOfMeans([][]float64{nil}, 10, Level, 1); !math.IsNaN(e.Value) || !math.IsNaN(e.CI.Hi) {
		t.Errorf("no values: %v", e)
	}
}

func TestSummarizeAndCensoring(t *testing.T) {
	dist := []float64{1, 2, 99, 3, 4}
	ok := []bool{true, true, false, true, true}
	s := Summarize(dist, ok, 1)
	if s.N != 5 || s.Successes != 4 || s.Success.Value != 0.8 || s.Mean.Value != 2.5 || s.Median.Value != 2.5 || s.Max != 4 {
		t.Errorf("summary %+v", s)
	}
	if got := Censored(dist, ok, 10); fmt.Sprint(got) != "[1 2 10 3 4]" {
		t.Errorf("censored %v", got)
	}
	// Paired: b is a plus 1 everywhere.
	a := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	b := []float64{2, 3, 4, 5, 6, 7, 8, 9}
	c, err := Paired(a, b, 1)
	if err != nil || c.MeanDiff.Value != 1 || c.MeanDiff.CI != (Interval{1, 1}) || c.W != 36 || c.NonZero != 8 || !near(c.P, 2.0/256, 1e-12) {
		t.Errorf("paired %+v, %v", c, err)
	}
	if _, err := Paired(a, b[:3], 1); err == nil {
		t.Error("unequal lengths accepted")
	}
}

func TestCurve(t *testing.T) {
	dist := []float64{0.5, 1, 2, 0}
	ok := []bool{true, true, true, false}
	got := Curve(dist, ok, []float64{0, 0.5, 1.5, 5})
	want := []float64{1, 0.75, 0.5, 0.25}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("curve %v, want %v", got, want)
	}
}

func TestDecide(t *testing.T) {
	for _, c := range []struct {
		iv       Interval
		positive bool
		want     Verdict
	}{
		{Interval{0.1, 0.5}, true, Supported},
		{Interval{-0.5, -0.1}, true, Contradicted},
		{Interval{-0.1, 0.5}, true, NotResolved},
		{Interval{-0.5, -0.1}, false, Supported},
		{Interval{0.1, 0.5}, false, Contradicted},
		{Interval{0, 0.5}, true, NotResolved},
		{Interval{math.NaN(), math.NaN()}, true, NotResolved},
	} {
		if got := Decide(c.iv, c.positive); got != c.want {
			t.Errorf("Decide(%v, %v) = %q, want %q", c.iv, c.positive, got, c.want)
		}
	}
	for _, c := range []struct {
		iv   Interval
		want Verdict
	}{
		{Interval{-0.1, 0.1}, Supported},
		{Interval{0.2, 0.4}, Contradicted},
		{Interval{-0.4, -0.2}, Contradicted},
		{Interval{0.1, 0.2}, NotResolved},
	} {
		if got := DecideWithin(c.iv, 0.15); got != c.want {
			t.Errorf("DecideWithin(%v, 0.15) = %q, want %q", c.iv, got, c.want)
		}
	}
}

func TestEstimateJSONRoundTrip(t *testing.T) {
	for _, e := range []Estimate{{1.5, Interval{1, 2}}, {math.NaN(), Interval{0, 1}}, {0.5, Interval{math.NaN(), math.NaN()}}} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got Estimate
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
		if !same(got.Value, e.Value) || !same(got.CI.Lo, e.CI.Lo) || !same(got.CI.Hi, e.CI.Hi) {
			t.Errorf("%v → %s → %v", e, b, got)
		}
	}
	var e Estimate
	if err := json.Unmarshal([]byte(`{"value":"x"}`), &e); err == nil {
		t.Error("a string value reads")
	}
}

// TestMinDetectable checks the power against values computed by hand:
// z₀.₉₇₅ = 1.959964, z₀.₈₀ = 0.841621 (normal tables), their sum 2.801585.
func TestMinDetectable(t *testing.T) {
	cases := []struct {
		name string
		d    []float64
		want float64
	}{
		// sd = √(10/4) = 1.581139, √5 = 2.236068: 2.801585 · 1.581139 / 2.236068 = 1.981020.
		{"1..5", []float64{1, 2, 3, 4, 5}, 1.981020},
		// Mean 0.15, sd = √(0.42/7) = 0.244949, √8 = 2.828427: 0.242624.
		{"eight differences", []float64{0.2, -0.1, 0.4, 0, 0.3, 0.1, -0.2, 0.5}, 0.242624},
		// Equal differences: no spread, any non-zero mean shows.
		{"constant", []float64{2, 2, 2}, 0},
		{"one pair", []float64{3}, math.NaN()},
		{"none", nil, math.NaN()},
	}
	for _, c := range cases {
		got := MinDetectable(c.d)
		if math.IsNaN(c.want) != math.IsNaN(got) || !math.IsNaN(c.want) && math.Abs(got-c.want) > 5e-6 {
			t.Errorf("%s: MinDetectable = %v, want %v", c.name, got, c.want)
		}
	}
	// Paired carries it for the differences b − a.
	c, err := Paired([]float64{0, 0, 0, 0, 0}, []float64{1, 2, 3, 4, 5}, 1)
	if err != nil || math.Abs(float64(c.MDE)-1.981020) > 5e-6 {
		t.Errorf("Paired: MDE %v (%v), want 1.981020", c.MDE, err)
	}
}

func TestNumberJSON(t *testing.T) {
	for _, v := range []Number{1.5, 0, Number(math.NaN())} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got Number
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got != v && !(math.IsNaN(float64(got)) && math.IsNaN(float64(v))) {
			t.Errorf("%v → %s → %v", v, b, got)
		}
	}
	if b, _ := json.Marshal(Number(math.Inf(1))); string(b) != "null" {
		t.Errorf("+Inf writes %s, want null", b)
	}
	var v Number
	if err := json.Unmarshal([]byte(`"x"`), &v); err == nil {
		t.Error("a string reads as a number")
	}
}
