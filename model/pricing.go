package model

import (
	"fmt"
	"math"
	"time"
)

// Architectures of a function.
const (
	X86   = "x86_64"
	Arm64 = "arm64"
)

// PriceTier is a price per GB-second that applies to a month's usage up to
// UpToGBs (0: no upper bound).
type PriceTier struct {
	UpToGBs   float64 `json:"upToGBs,omitempty"`
	USDPerGBs float64 `json:"usdPerGBs"`
}

// Pricing is Lambda's price model (us-east-1).
type Pricing struct {
	// Architecture selects the GB-s tiers: "x86_64" or "arm64".
	Architecture string `json:"architecture"`
	// X86Tiers and Arm64Tiers: GB-second prices by monthly volume.
	X86Tiers   []PriceTier `json:"x86Tiers"`
	Arm64Tiers []PriceTier `json:"arm64Tiers"`
	// RequestUSDPerMillion is the request fee (0.20 $ per million).
	RequestUSDPerMillion float64 `json:"requestUSDPerMillion"`
	// MBPerGB converts memory to GB for GB-seconds (1024).
	MBPerGB float64 `json:"mbPerGB"`
	// GranularityMs rounds billed duration up to a multiple (1 ms since
	// December 2020; 100 ms before).
	GranularityMs int64 `json:"granularityMs"`
	// BillInit bills the INIT phase too (on-demand ZIP functions since August
	// 2025). Off reproduces the 2023 traces.
	BillInit bool `json:"billInit"`
}

// BilledMs is the billed duration of an invocation whose handler ran for
// duration after an init phase of init (zero on a warm start).
func (p Pricing) BilledMs(duration, init time.Duration) int64 {
	d := duration
	if p.BillInit {
		d += init
	}
	g := p.GranularityMs
	if g < 1 {
		g = 1
	}
	unit := time.Duration(g) * time.Millisecond
	n := int64((d + unit - 1) / unit)
	return n * g
}

// GBMs is billed GB-milliseconds: billedMs x memory in GB.
func (p Pricing) GBMs(billedMs int64, memoryMB int) float64 {
	return float64(billedMs) * float64(memoryMB) / p.MBPerGB
}

// tiers returns the tiers of the architecture.
func (p Pricing) tiers() []PriceTier {
	if p.Architecture == Arm64 {
		return p.Arm64Tiers
	}
	return p.X86Tiers
}

// ComputeUSD is the compute price of one invocation at the first tier.
func (p Pricing) ComputeUSD(billedMs int64, memoryMB int) float64 {
	return p.GBMs(billedMs, memoryMB) / 1000 * p.tiers()[0].USDPerGBs
}

// InvocationUSD is the price of one invocation: compute at the first tier
// plus the request fee.
func (p Pricing) InvocationUSD(billedMs int64, memoryMB int) float64 {
	return p.ComputeUSD(billedMs, memoryMB) + p.RequestUSDPerMillion/1e6
}

// MonthlyComputeUSD prices a month's total GB-seconds through the tiers.
func (p Pricing) MonthlyComputeUSD(gbs float64) float64 {
	var usd, lower float64
	for _, t := range p.tiers() {
		upper := t.UpToGBs
		if upper == 0 || gbs <= upper {
			return usd + (gbs-lower)*t.USDPerGBs
		}
		usd += (upper - lower) * t.USDPerGBs
		lower = upper
	}
	return usd
}

// Validate checks the parameters.
func (p Pricing) Validate() error {
	if p.Architecture != X86 && p.Architecture != Arm64 {
		return fmt.Errorf("pricing.architecture: %q is neither %q nor %q", p.Architecture, X86, Arm64)
	}
	for name, tiers := range map[string][]PriceTier{"x86Tiers": p.X86Tiers, "arm64Tiers": p.Arm64Tiers} {
		if len(tiers) == 0 {
			return fmt.Errorf("pricing.%s: at least one tier is needed", name)
		}
		for i, t := range tiers {
			if !(t.USDPerGBs >= 0) || math.IsInf(t.USDPerGBs, 0) {
				return fmt.Errorf("pricing.%s[%d].usdPerGBs: %v must be a finite number >= 0", name, i, t.USDPerGBs)
			}
			if i < len(tiers)-1 && t.UpToGBs <= 0 {
				return fmt.Errorf("pricing.%s[%d].upToGBs: %v: only the last tier may be unbounded", name, i, t.UpToGBs)
			}
			if i > 0 && t.UpToGBs != 0 && t.UpToGBs <= tiers[i-1].UpToGBs {
				return fmt.Errorf("pricing.%s[%d].upToGBs: %v must be above the previous tier's %v", name, i, t.UpToGBs, tiers[i-1].UpToGBs)
			}
		}
	}
	if !(p.RequestUSDPerMillion >= 0) {
		return fmt.Errorf("pricing.requestUSDPerMillion: %v must be >= 0", p.RequestUSDPerMillion)
	}
	if !(p.MBPerGB > 0) {
		return fmt.Errorf("pricing.mbPerGB: %v must be > 0", p.MBPerGB)
	}
	if p.GranularityMs < 1 {
		return fmt.Errorf("pricing.granularityMs: %d must be >= 1", p.GranularityMs)
	}
	return nil
}
