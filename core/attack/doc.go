// Package attack implements the three attacks of Carlini & Wagner, "Towards
// Evaluating the Robustness of Neural Networks" (2017), following their
// reference code (carlini/nn_robust_attacks): L2 (l2.go), L0 (l0.go) and
// L∞ (linf.go), plus a gradient-sign baseline (gradsign.go).
//
// An attack sees a model only through Classifier: logits for a batch, and
// the gradient of a weighted sum of logits with respect to the input. Every
// attack works on the logits Z, minimises the f6 objective
// max(max_{i≠t} Z_i − Z_t, −κ) (targeted; the mirror image untargeted),
// and keeps the image inside the box [0, 1].
//
// Attacks report each iteration to an optional Observer (nil costs
// nothing) and stop when their context is cancelled. A Result says whether
// the attack succeeded; its adversarial image is re-classified before it is
// called a success.
package attack
