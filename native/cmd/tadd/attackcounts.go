package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tadd-project/tadd/core/attack"
	"github.com/tadd-project/tadd/core/reproduce"
)

// attackCounts is reproduce's --attack-samples: one count for every attack
// ("300"), the counts of some attacks ("l0=100,l2=200"), or both
// ("300,l0=100": 300 for every attack but L0).
type attackCounts struct {
	all int            // every attack that per does not name (0: the preset's count)
	per map[string]int // by attack
}

// parseAttackCounts reads --attack-samples; "" and "0" leave every
// attack the preset's count.
func parseAttackCounts(v string) (attackCounts, error) {
	c := attackCounts{per: map[string]int{}}
	if strings.TrimSpace(v) == "" {
		return c, nil
	}
	bare := false
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		name, num, named := strings.Cut(item, "=")
		if !named {
			num = name
		}
		name, num = strings.TrimSpace(name), strings.TrimSpace(num)
		n, err := strconv.ParseUint(num, 10, 31)
		if err != nil {
			return c, fmt.Errorf("--attack-samples %s: %q is not a count (want N for every attack, or ATTACK=N, as l0=100,l2=200)", v, item)
		}
		if !named {
			if bare {
				return c, fmt.Errorf("--attack-samples %s: two counts for every attack", v)
			}
			bare, c.all = true, int(n)
			continue
		}
		if err := attack.CheckName(name); err != nil {
			return c, fmt.Errorf("--attack-samples %s: %w", v, err)
		}
		if _, twice := c.per[name]; twice {
			return c, fmt.Errorf("--attack-samples %s: %s counted twice", v, name)
		}
		if n == 0 {
			return c, fmt.Errorf("--attack-samples %s: %s=0: want at least 1 (to leave %s out, leave it out of --attacks)", v, name, name)
		}
		c.per[name] = int(n)
	}
	return c, nil
}

// of gives every attack of a run its count: the one named, else the one
// for every attack, else the preset's. An attack named that the run does
// not make is an error.
func (c attackCounts) of(preset string, attacks []string) (map[string]int, error) {
	for a := range c.per {
		if !slices.Contains(attacks, a) {
			return nil, fmt.Errorf("--attack-samples %s=%d: %s is not among --attacks (%s)", a, c.per[a], a, strings.Join(attacks, ","))
		}
	}
	out := map[string]int{}
	for _, a := range attacks {
		switch n, ok := c.per[a]; {
		case ok:
			out[a] = n
		case c.all > 0:
			out[a] = c.all
		default:
			out[a] = reproduce.AttackedSamples(preset, a)
		}
	}
	return out, nil
}
