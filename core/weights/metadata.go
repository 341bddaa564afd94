package weights

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tadd-project/tadd/core/catalog"
)

// FormatVersion is written into every file's metadata.
const FormatVersion = "1"

// Metadata describes a model file: the model's identity and how it was
// trained. It is stored as the string map "__metadata__" of the
// safetensors header.
type Metadata struct {
	catalog.Identity
	Config string // the training configuration, as JSON
}

func (m Metadata) toMap() map[string]string {
	return map[string]string{
		"format":         "tadd",
		"format_version": FormatVersion,
		"dataset":        m.Dataset,
		"arch":           m.Arch,
		"temperature":    strconv.FormatFloat(m.Temperature, 'g', -1, 64),
		"role":           m.Role,
		"step":           strconv.Itoa(m.Step),
		"parent":         m.Parent,
		"seed":           strconv.FormatUint(m.Seed, 10),
		"epochs":         strconv.Itoa(m.Epochs),
		"test_accuracy":  strconv.FormatFloat(m.TestAccuracy, 'g', -1, 64),
		"config":         m.Config,
	}
}

func metadataFromMap(mm map[string]string) (Metadata, error) {
	var m Metadata
	if v := mm["format_version"]; v != FormatVersion {
		return m, fmt.Errorf("format_version %q, this build reads %q", v, FormatVersion)
	}
	m.Dataset, m.Arch, m.Role, m.Parent, m.Config = mm["dataset"], mm["arch"], mm["role"], mm["parent"], mm["config"]
	if m.Arch == "" {
		return m, fmt.Errorf("metadata has no arch")
	}
	var err error
	parse := func(key string, f func(string) error) {
		if err != nil {
			return
		}
		if v, ok := mm[key]; ok && v != "" {
			if e := f(v); e != nil {
				err = fmt.Errorf("metadata %s=%q: %v", key, v, e)
			}
		}
	}
	parse("temperature", func(s string) (e error) { m.Temperature, e = strconv.ParseFloat(s, 64); return })
	parse("step", func(s string) (e error) { m.Step, e = strconv.Atoi(s); return })
	parse("seed", func(s string) (e error) { m.Seed, e = strconv.ParseUint(s, 10, 64); return })
	parse("epochs", func(s string) (e error) { m.Epochs, e = strconv.Atoi(s); return })
	parse("test_accuracy", func(s string) (e error) { m.TestAccuracy, e = strconv.ParseFloat(s, 64); return })
	if err != nil {
		return m, err
	}
	switch {
	case !(m.Temperature > 0) || math.IsInf(m.Temperature, 0):
		return m, fmt.Errorf("metadata temperature=%q: want a finite positive number", mm["temperature"])
	case m.Step < 0:
		return m, fmt.Errorf("metadata step=%q: want 0 or more", mm["step"])
	case m.Epochs < 0:
		return m, fmt.Errorf("metadata epochs=%q: want 0 or more", mm["epochs"])
	case m.TestAccuracy != -1 && !(m.TestAccuracy >= 0 && m.TestAccuracy <= 1):
		return m, fmt.Errorf("metadata test_accuracy=%q: want a fraction in [0, 1], or -1 for not measured", mm["test_accuracy"])
	}
	return m, nil
}
