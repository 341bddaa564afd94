package stats_test

import (
	"fmt"

	"github.com/tadd-project/tadd/core/stats"
)

// ExamplePaired compares the minimal L2 perturbations a student and its
// teacher needed on the same eight images and goals; the attack failed on
// the student's last image, which is counted at the budget.
func ExamplePaired() {
	teacher := []float64{1.1, 1.4, 0.9, 1.6, 1.2, 1.3, 1.0, 1.5}
	studentDist := []float64{1.3, 1.5, 1.2, 1.7, 1.4, 1.2, 1.3, 0}
	studentOK := []bool{true, true, true, true, true, true, true, false}
	student := stats.Censored(studentDist, studentOK, 28) // √784: the largest L2 on MNIST
	c, err := stats.Paired(teacher, student, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("student − teacher: %v, n = %d, Wilcoxon p = %.3f\n", c.MeanDiff, c.N, c.P)
	fmt.Println(stats.Decide(c.MeanDiff.CI, true))
	// Output:
	// student − teacher: 3.45 [0.0875, 10.1], n = 8, Wilcoxon p = 0.031
	// supported
}
