package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

// The chart is hand-written SVG: a row of bar panels (hits QPS, p99, RSS
// after load per contender at the main N) and a line panel (RSS against the
// number of Services, for the contenders whose relist was measured).

const (
	panelW, panelH = 300, 330
	plotTop        = 40  // title above
	plotBottom     = 220 // labels below
	plotLeft       = 60
)

// bar is one contender's value in a bar panel.
type bar struct {
	label string
	value float64
	color string
}

// series is one line of the line panel: values by number of Services.
type series struct {
	label string
	dash  bool
	n     []int
	kib   []int64
}

var colors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// Chart draws the run; the bars are of 10,000 Services when the run has
// them, else of its largest N.
func Chart(sizes []*measure.Size) string {
	sr := sizes[len(sizes)-1]
	if i := slices.IndexFunc(sizes, func(s *measure.Size) bool { return s.N == 10000 }); i >= 0 {
		sr = sizes[i]
	}
	var panels []string
	for _, p := range []struct {
		title string
		value func(r *measure.Result) (float64, bool)
	}{
		{"hits QPS", func(r *measure.Result) (float64, bool) { return metrics["hits-qps"].of(r, 0) }},
		{"p99 (ms) at the fixed rate", func(r *measure.Result) (float64, bool) {
			v, ok := metrics["p99"].of(r, 0)
			return v * 1000, ok && !math.IsInf(v, 1)
		}},
		{"RSS after load (MiB)", func(r *measure.Result) (float64, bool) { return float64(r.RSSLoad) / 1024, r.RSSLoad > 0 }},
	} {
		var bars []bar
		for i, r := range sr.Results {
			if v, ok := p.value(r); ok && r.Err == nil && r.Skip == "" {
				bars = append(bars, bar{r.C.Name, v, colors[i%len(colors)]})
			}
		}
		if len(bars) > 0 {
			panels = append(panels, barPanel(fmt.Sprintf("%s, N=%d", p.title, sr.N), bars))
		}
	}
	if s := rssSeries(sizes); len(s) > 0 {
		panels = append(panels, linePanel("RSS (MiB) against Services", s))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", panelW*max(len(panels), 1), panelH)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	for i, p := range panels {
		fmt.Fprintf(&b, "<g transform=\"translate(%d,0)\">\n%s</g>\n", i*panelW, p)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// rssSeries are RSS after sync and the relist peak by N, for each
// contender whose relist was measured.
func rssSeries(sizes []*measure.Size) []series {
	var out []series
	for _, name := range []string{"kubedns", "coredns"} {
		sync, peak := series{label: name + " after sync"}, series{label: name + " relist peak", dash: true}
		for _, sr := range sizes {
			r := find(sr, name)
			if r == nil || r.RSSSync == 0 {
				continue
			}
			sync.n, sync.kib = append(sync.n, sr.N), append(sync.kib, r.RSSSync)
			if r.Relist != nil {
				peak.n, peak.kib = append(peak.n, sr.N), append(peak.kib, r.Relist.Peak)
			}
		}
		for _, s := range []series{sync, peak} {
			if len(s.n) > 0 && (len(sizes) > 1 || len(peak.n) > 0) {
				out = append(out, s)
			}
		}
	}
	return out
}

// axis draws the y axis from 0 to top with a few ticks, returning the
// scale (pixels per unit).
func axis(b *strings.Builder, top float64) float64 {
	scale := float64(plotBottom-plotTop) / top
	fmt.Fprintf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", plotLeft, plotTop, plotLeft, plotBottom)
	fmt.Fprintf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", plotLeft, plotBottom, panelW-10, plotBottom)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := float64(plotBottom) - v*scale
		fmt.Fprintf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", plotLeft-4, y+4, short(v))
		fmt.Fprintf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", plotLeft+1, y, panelW-10, y)
	}
	return scale
}

// title starts a panel with its title.
func title(b *strings.Builder, t string) {
	fmt.Fprintf(b, "<text x=\"%d\" y=\"20\" font-size=\"12\" font-weight=\"bold\" text-anchor=\"middle\">%s</text>\n", panelW/2, esc(t))
}

func barPanel(t string, bars []bar) string {
	var b strings.Builder
	title(&b, t)
	top := 0.0
	for _, x := range bars {
		top = max(top, x.value)
	}
	scale := axis(&b, niceTop(top))
	w := float64(panelW-plotLeft-20) / float64(len(bars))
	for i, x := range bars {
		left := float64(plotLeft) + 5 + float64(i)*w
		h := x.value * scale
		fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>\n",
			left, float64(plotBottom)-h, w*0.8, h, x.color, esc(x.label), short(x.value))
		fmt.Fprintf(&b, "<text transform=\"translate(%.1f,%d) rotate(40)\">%s</text>\n", left+w*0.4, plotBottom+10, esc(x.label))
	}
	return b.String()
}

func linePanel(t string, ss []series) string {
	var b strings.Builder
	title(&b, t)
	top, maxN := 0.0, 0
	for _, s := range ss {
		for i, n := range s.n {
			top, maxN = max(top, float64(s.kib[i])/1024), max(maxN, n)
		}
	}
	scale := axis(&b, niceTop(top))
	xscale := float64(panelW-plotLeft-30) / float64(maxN)
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s Services</text>\n", panelW-10, plotBottom+14, short(float64(maxN)))
	for i, s := range ss {
		var pts []string
		for k, n := range s.n {
			x, y := float64(plotLeft)+float64(n)*xscale, float64(plotBottom)-float64(s.kib[k])/1024*scale
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s at %d: %s</title></circle>\n",
				x, y, colors[i/2%len(colors)], esc(s.label), n, measure.MiB(s.kib[k]))
		}
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="4,3"`
		}
		fmt.Fprintf(&b, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\"%s/>\n", strings.Join(pts, " "), colors[i/2%len(colors)], dash)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", plotLeft+5, plotBottom+34+14*i, colors[i/2%len(colors)], esc(s.label))
	}
	return b.String()
}

// niceTop rounds v up to a round number: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
// times a power of ten.
func niceTop(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// short writes a number with k or M for thousands and millions.
func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", math.Round(v/1e5)/10)
	case v >= 1e3:
		return fmt.Sprintf("%gk", math.Round(v/1e2)/10)
	case v >= 10 && v == math.Round(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
