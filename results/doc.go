// Package results summarizes, stores and draws experiments: summary rows
// (summary.csv) computed from invocation records and client responses,
// results directories written atomically (manifest.json, summary.csv,
// traces/, configuration/, responses/, logs/, figures/), readers for them
// and for directories of real traces in the prototype's layout, and figures
// for papers (PDF with embedded fonts, SVG, PNG) drawn with gonum/plot.
package results
