package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tadd-project/tadd/core/reproduce"
	"github.com/tadd-project/tadd/native/safefile"
)

// saveBudgetCheck writes a budget check into the output folder, where a
// resumed run and tadd merge find it.
func saveBudgetCheck(out string, c reproduce.BudgetCheck) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", reproduce.BudgetFile, err)
	}
	return safefile.Write(filepath.Join(out, reproduce.BudgetFile), append(b, '\n'))
}

// keptBudgetCheck is the budget check that folders made for runs of set
// hold (nil: none). Several must agree: a check is made once, unsharded.
func keptBudgetCheck(dirs []string, set reproduce.Settings) (*reproduce.BudgetCheck, error) {
	var kept *reproduce.BudgetCheck
	from := ""
	for _, dir := range dirs {
		c, ok, err := reproduce.LoadBudgetCheck(os.DirFS(dir), set)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if !ok {
			continue
		}
		if kept != nil && kept.Text() != c.Text() {
			return nil, fmt.Errorf("%s and %s hold different budget checks (%s): keep the one that belongs to the run", from, dir, reproduce.BudgetFile)
		}
		kept, from = &c, dir
	}
	return kept, nil
}
