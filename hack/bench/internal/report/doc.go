// Package report writes a run's results as markdown, with its targets, and
// as an SVG chart.
package report
