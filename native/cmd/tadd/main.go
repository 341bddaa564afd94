// Command tadd trains, distills, attacks and evaluates the networks of
// "Improving Defensive Distillation using Teacher Assistant".
//
//	tadd train     --dataset mnist --temperature 20 --epochs 50 --out teacher.safetensors
//	tadd evaluate  teacher.safetensors
//
// Run `tadd help` for every command and `tadd COMMAND -h` for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"train":      {"train one model (hard labels, or soft labels of --teacher)", runTrain},
		"evaluate":   {"measure accuracy, sensitivity, confidence and (--attacks) robustness", runEvaluate},
		"attack":     {"run a C&W attack on one test image and write PNGs", runAttack},
		"distill":    {"train teacher → assistant → student … chains at one or more T", runDistill},
		"models":     {"list (and --verify) the models of a folder's manifest", runModels},
		"export":     {"write a model's inference graph as ONNX (--onnx)", runExport},
		"serve":      {"serve the web demo and the pretrained models on 127.0.0.1", runServe},
		"reproduce":  {"compute every figure of the paper into a report (--quick: minutes)", runReproduce},
		"merge":      {"combine the outputs of sharded reproduce runs", runMerge},
		"report":     {"show a results folder (default: the shipped results) without recomputing", runReport},
		"playground": {"open the desktop playground (a window; built by ./build.sh playground)", runPlayground},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tadd: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "tadd %s: %v\n", args[0], err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "tadd %s: interrupted\n", args[0])
		return 130
	default:
		fmt.Fprintf(stderr, "tadd %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: tadd COMMAND [flags]\n\ncommands:")
	var names []string
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'tadd COMMAND -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tadd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, turning flag errors into usage errors. Flags may come
// before and after the positional arguments (`tadd evaluate m.safetensors
// --json`); after "--" everything is positional. fs.Args() then holds the
// positional arguments in order.
// parseWithOut is parse for the commands whose --out flag (out) is
// required.
func parseWithOut(fs *flag.FlagSet, args []string, out *string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	return nil
}

func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	// Leave exactly the positional arguments in fs.Args().
	return fs.Parse(append([]string{"--"}, positional...))
}
