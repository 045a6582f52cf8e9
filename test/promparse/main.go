// promparse reads Prometheus text exposition on stdin with Prometheus's own parser (expfmt) and prints the families
// as JSON, or the parser's error with exit status 1. The metrics test uses it to check /metrics against the real format.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
	// Histograms: count, sum and cumulative buckets by upper bound.
	Count   uint64             `json:"count,omitempty"`
	Sum     float64            `json:"sum,omitempty"`
	Buckets map[string]uint64 `json:"buckets,omitempty"`
}

type family struct {
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

func main() {
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string]family{}
	for name, f := range families {
		fam := family{Type: f.GetType().String(), Help: f.GetHelp()}
		for _, m := range f.GetMetric() {
			s := sample{Labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.Labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.Value = m.GetCounter().GetValue()
			case m.Gauge != nil:
				s.Value = m.GetGauge().GetValue()
			case m.Histogram != nil:
				h := m.GetHistogram()
				s.Count, s.Sum, s.Buckets = h.GetSampleCount(), h.GetSampleSum(), map[string]uint64{}
				for _, b := range h.GetBucket() {
					s.Buckets[fmt.Sprint(b.GetUpperBound())] = b.GetCumulativeCount()
				}
			case m.Untyped != nil:
				s.Value = m.GetUntyped().GetValue()
			}
			fam.Samples = append(fam.Samples, s)
		}
		out[name] = fam
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
