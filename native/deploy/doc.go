// Package deploy holds what runs the paper's full reproduction on a
// cluster: a Slurm job array with its merge job (slurm/), a script that
// starts a single-node Slurm cluster for testing it, and the Kubernetes
// Indexed Job (kubernetes/) over the container image `./build.sh image`
// builds. It has no Go API; its tests run the scripts for real.
package deploy
