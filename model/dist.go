package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Kinds of Dist.
const (
	KindNone        = ""            // always zero
	KindConst       = "const"       // Value
	KindUniform     = "uniform"     // Min..Max
	KindNormal      = "normal"      // Mean, Std
	KindLogNormal   = "lognormal"   // Median, Sigma (standard deviation of the log)
	KindExponential = "exponential" // Mean
	KindEmpirical   = "empirical"   // one of Values, uniformly
)

// Dist is a distribution of a non-negative quantity; the field that holds it
// names the unit (latencyMs, keepAliveS, ...). Offset is added to every sample
// and samples below zero are returned as zero.
type Dist struct {
	Kind   string    `json:"kind,omitempty"`
	Value  float64   `json:"value,omitempty"`
	Min    float64   `json:"min,omitempty"`
	Max    float64   `json:"max,omitempty"`
	Mean   float64   `json:"mean,omitempty"`
	Std    float64   `json:"std,omitempty"`
	Median float64   `json:"median,omitempty"`
	Sigma  float64   `json:"sigma,omitempty"`
	Values []float64 `json:"values,omitempty"`
	Offset float64   `json:"offset,omitempty"`
}

// Const is a distribution that always gives v.
func Const(v float64) Dist { return Dist{Kind: KindConst, Value: v} }

// LogNormal is a log-normal distribution with the given median and sigma,
// shifted by offset.
func LogNormal(offset, median, sigma float64) Dist {
	return Dist{Kind: KindLogNormal, Median: median, Sigma: sigma, Offset: offset}
}

// Sample draws one value. Kinds without randomness draw nothing from r, so
// adding a constant parameter does not shift the random stream of the others.
func (d Dist) Sample(r *rand.Rand) float64 {
	var v float64
	switch d.Kind {
	case KindNone:
	case KindConst:
		v = d.Value
	case KindUniform:
		v = d.Min + r.Float64()*(d.Max-d.Min)
	case KindNormal:
		v = d.Mean + d.Std*r.NormFloat64()
	case KindLogNormal:
		v = d.Median * math.Exp(d.Sigma*r.NormFloat64())
	case KindExponential:
		v = d.Mean * r.ExpFloat64()
	case KindEmpirical:
		v = d.Values[r.IntN(len(d.Values))]
	}
	v += d.Offset
	if v < 0 {
		return 0
	}
	return v
}

// Quantile returns the value of the distribution at the standard normal
// quantile z (its Φ(z)-quantile): a draw made from a given normal z, so that
// draws can be correlated through their z (a Gaussian copula). Offset and
// the clamp at zero apply as in Sample.
func (d Dist) Quantile(z float64) float64 {
	var v float64
	switch d.Kind {
	case KindNone:
	case KindConst:
		v = d.Value
	case KindUniform:
		v = d.Min + phi(z)*(d.Max-d.Min)
	case KindNormal:
		v = d.Mean + d.Std*z
	case KindLogNormal:
		v = d.Median * math.Exp(d.Sigma*z)
	case KindExponential:
		v = -d.Mean * math.Log1p(-min(phi(z), 1-1e-16))
	case KindEmpirical:
		i := int(phi(z) * float64(len(d.Values)))
		v = d.Values[min(max(i, 0), len(d.Values)-1)]
	}
	v += d.Offset
	if v < 0 {
		return 0
	}
	return v
}

// phi is the standard normal CDF Φ(z).
func phi(z float64) float64 { return 0.5 * (1 + math.Erf(z/math.Sqrt2)) }

// Expected is the distribution's mean (ignoring the clamp at zero).
func (d Dist) Expected() float64 {
	var v float64
	switch d.Kind {
	case KindConst:
		v = d.Value
	case KindUniform:
		v = (d.Min + d.Max) / 2
	case KindNormal, KindExponential:
		v = d.Mean
	case KindLogNormal:
		v = d.Median * math.Exp(d.Sigma*d.Sigma/2)
	case KindEmpirical:
		for _, x := range d.Values {
			v += x
		}
		if len(d.Values) > 0 {
			v /= float64(len(d.Values))
		}
	}
	return v + d.Offset
}

// IsZero reports whether the distribution always gives zero.
func (d Dist) IsZero() bool { return d.Kind == KindNone && d.Offset == 0 }

// Validate checks the parameters of the kind; field names the distribution in
// errors (e.g. "remote.syncRequest.latencyMs").
func (d Dist) Validate(field string) error {
	bad := func(name string, v any, why string) error {
		return fmt.Errorf("%s.%s: %v %s", field, name, v, why)
	}
	for name, v := range map[string]float64{"value": d.Value, "min": d.Min, "max": d.Max, "mean": d.Mean, "std": d.Std, "median": d.Median, "sigma": d.Sigma, "offset": d.Offset} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad(name, v, "is not a finite number")
		}
	}
	switch d.Kind {
	case KindNone, KindConst:
	case KindUniform:
		if d.Max < d.Min {
			return bad("max", d.Max, fmt.Sprintf("is below min %v", d.Min))
		}
	case KindNormal:
		if d.Std < 0 {
			return bad("std", d.Std, "must be >= 0")
		}
	case KindLogNormal:
		if d.Median <= 0 {
			return bad("median", d.Median, "must be > 0")
		}
		if d.Sigma < 0 {
			return bad("sigma", d.Sigma, "must be >= 0")
		}
	case KindExponential:
		if d.Mean <= 0 {
			return bad("mean", d.Mean, "must be > 0")
		}
	case KindEmpirical:
		if len(d.Values) == 0 {
			return bad("values", "[]", "must not be empty")
		}
		for i, v := range d.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bad(fmt.Sprintf("values[%d]", i), v, "is not a finite number")
			}
		}
	default:
		return fmt.Errorf("%s.kind: %q is not one of const, uniform, normal, lognormal, exponential, empirical", field, d.Kind)
	}
	return nil
}

// Cost is a modeled delay: a wall-clock part (network, service time) and a
// CPU part that runs inside the execution environment at its CPU share, so it
// takes longer on small memory sizes.
type Cost struct {
	LatencyMs Dist    `json:"latencyMs"`
	CPUMs     float64 `json:"cpuMs,omitempty"` // single-threaded demand in vCPU-ms
}

// Validate checks both parts.
func (c Cost) Validate(field string) error {
	if err := c.LatencyMs.Validate(field + ".latencyMs"); err != nil {
		return err
	}
	if c.CPUMs < 0 || math.IsNaN(c.CPUMs) || math.IsInf(c.CPUMs, 0) {
		return fmt.Errorf("%s.cpuMs: %v must be a finite number >= 0", field, c.CPUMs)
	}
	return nil
}

// Ms converts a sample in milliseconds to a duration, rounded to the
// nanosecond.
func Ms(v float64) Duration { return Duration(math.Round(v * 1e6)) }
