package model

import (
	"math"
	"testing"
)

// Dist.Quantile maps a standard normal z to the distribution's
// Φ(z)-quantile: z = 0 is the median, and it grows with z.
func TestDistQuantile(t *testing.T) {
	for _, c := range []struct {
		d    Dist
		z    float64
		want float64
	}{
		{Const(5), 1.3, 5},
		{Dist{Kind: KindUniform, Min: 10, Max: 20}, 0, 15},
		{Dist{Kind: KindNormal, Mean: 10, Std: 2}, 1, 12},
		{LogNormal(1, 100, 0.5), 0, 101},
		{LogNormal(0, 100, 0.5), 1, 100 * math.Exp(0.5)},
		{Dist{Kind: KindExponential, Mean: 10}, 0, 10 * math.Ln2},
		{Dist{Kind: KindEmpirical, Values: []float64{1, 2, 3, 4}}, 0, 3},
		{Dist{Kind: KindEmpirical, Values: []float64{1, 2, 3, 4}}, -5, 1},
		{Dist{Kind: KindEmpirical, Values: []float64{1, 2, 3, 4}}, 5, 4},
		{Dist{Kind: KindNormal, Mean: 1, Std: 1}, -3, 0}, // clamped
		{Dist{}, 2, 0},
	} {
		if got := c.d.Quantile(c.z); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%+v.Quantile(%v) = %v, want %v", c.d, c.z, got, c.want)
		}
	}
}

func TestValidateLatencyCorrelation(t *testing.T) {
	p := Default()
	p.Remote.LatencyCorrelation = 1.5
	if err := p.Validate(); err == nil {
		t.Fatal("latencyCorrelation 1.5 accepted")
	}
}
