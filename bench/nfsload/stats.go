package main

import (
	"math"
	"slices"
	"time"
)

// Latency is a summary of recorded operation durations, in microseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// percentile returns the nearest-rank p-quantile (0 < p <= 1) of the
// sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// summarize sorts d in place and returns its summary.
func summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	var sum float64
	for _, v := range d {
		sum += float64(v)
	}
	us := func(v time.Duration) float64 { return math.Round(float64(v)/10) / 100 }
	return Latency{
		Mean: math.Round(sum/float64(len(d))/10) / 100,
		P50:  us(percentile(d, 0.50)),
		P99:  us(percentile(d, 0.99)),
		P999: us(percentile(d, 0.999)),
		Max:  us(d[len(d)-1]),
	}
}
