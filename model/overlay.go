package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// OverlayKind marks a profile file as an overlay (its "overlay" field).
const OverlayKind = "work"

// Overlay holds an application's work figures to apply over a platform
// profile: what "simulate calibrate --fit-on" writes. A file holding one is
// read by Load (and so by every --profile) as its base profile with Work's
// entries in place, each replacing the base's entry of that name.
type Overlay struct {
	// Overlay is OverlayKind; it tells an overlay from a whole profile.
	Overlay string `json:"overlay"`
	// Name and Description say where the figures come from.
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Base is the profile file the overlay applies to, relative to the
	// overlay's own directory; "" is the embedded default profile.
	Base string `json:"base,omitempty"`
	// Work are the figures of work descriptors, by name.
	Work map[string]WorkParams `json:"work"`
}

// Apply returns base with the overlay's work figures in place, named after
// the overlay when it has a name.
func (o Overlay) Apply(base Profile) (Profile, error) {
	p := base
	p.Work = make(map[string]WorkParams, len(base.Work)+len(o.Work))
	for k, v := range base.Work {
		p.Work[k] = v
	}
	for k, v := range o.Work {
		p.Work[k] = v
	}
	if o.Name != "" {
		p.Name = o.Name
		p.Description = o.Description
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Marshal writes the overlay as indented JSON.
func (o Overlay) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// isOverlay reports whether data is a JSON object with an "overlay" field.
func isOverlay(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	_, ok := probe["overlay"]
	return ok
}

// loadOverlay reads an overlay file and applies it to its base.
func loadOverlay(path string, data []byte, depth int) (Profile, error) {
	var o Overlay
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return Profile{}, fmt.Errorf("%s: overlay: %w", path, err)
	}
	if o.Overlay != OverlayKind {
		return Profile{}, fmt.Errorf("%s: overlay: %q is not %q (an overlay holds work figures)", path, o.Overlay, OverlayKind)
	}
	base := Default()
	if o.Base != "" {
		if depth > 8 {
			return Profile{}, fmt.Errorf("%s: overlay: base %q: overlays nest more than 8 deep", path, o.Base)
		}
		bp := o.Base
		if !filepath.IsAbs(bp) {
			bp = filepath.Join(filepath.Dir(path), bp)
		}
		var err error
		if base, err = load(bp, depth+1); err != nil {
			return Profile{}, fmt.Errorf("%s: overlay: base: %w", path, err)
		}
	}
	p, err := o.Apply(base)
	if err != nil {
		return Profile{}, fmt.Errorf("%s: overlay: %w", path, err)
	}
	return p, nil
}

func load(path string, depth int) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, err
	}
	if isOverlay(data) {
		return loadOverlay(path, data, depth)
	}
	p, err := Parse(data)
	if err != nil {
		return Profile{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
