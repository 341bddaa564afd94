// Package attack implements the three attacks of Carlini & Wagner, "Towards
// Evaluating the Robustness of Neural Networks" (2017), following their
// reference code (carlini/nn_robust_attacks): L2 (l2.go), L0 (l0.go) and
// L∞ (linf.go), plus a gradient-sign baseline (gradsign.go).
//
// Each attack is an Attack: its configuration (L2Config, L0Config,
// LInfConfig) with a name, the Norm it minimises and a Run over a queue of
// (image, goal) pairs in batches (batch.go). Configs.Attacks and
// Configs.Attack are the registry by name that commands and user
// interfaces read.
//
// An attack sees a model only through Classifier: logits for a batch, and
// the gradient of a weighted sum of logits with respect to the input. Every
// attack works on the logits Z, minimises the f6 objective
// max(max_{i≠t} Z_i − Z_t, −κ) (targeted; the mirror image untargeted;
// objectiveWeights), and keeps the image inside the box [0, 1] through
// x' = tanh(w + δ)/2 + 1/2 with Adam on δ (tanhbox.go).
//
// Attacks report each iteration to an optional Observer (nil costs
// nothing), with their own search state in a Search (L2Search, L0Search,
// LInfSearch), and stop when their context is cancelled. A Result says
// whether the attack succeeded; its adversarial image is re-classified
// before it is called a success.
package attack
