package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is a named line.
type Series struct {
	Name   string
	X, Y   []float64
	Dashed bool
	// Color index (plotutil's palette); -1 picks the series' position.
	Color int
}

// Marker is a labelled vertical line (a fault, a threshold).
type Marker struct {
	X     float64
	Label string
}

// LinePlot describes a line chart.
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	Markers               []Marker
	// LogX draws X on a log scale (with 1-2-5 ticks).
	LogX bool
	// YMin is where the Y axis starts (NaN: where the data does).
	YMin float64
	// LegendBottom puts the legend at the bottom right (CDFs), leaving
	// room to the right of the data; otherwise it goes top right, above
	// the data.
	LegendBottom bool
}

// palette has distinct colours for up to 10 series.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// Color returns colour i of the palette.
func Color(i int) color.Color { return palette[((i%len(palette))+len(palette))%len(palette)] }

// niceTicks labels about six round values of a linear axis.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 6, 64)})
		if minor := v + step/2; minor < hi {
			out = append(out, plot.Tick{Value: minor})
		}
	}
	return out
}

// ticks125 puts ticks at 1, 2 and 5 times powers of ten.
type ticks125 struct{}

func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v >= lo && v <= hi {
				out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
	}
	return out
}

// msOf converts a duration to float milliseconds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Save draws the chart to path (.png or .svg), 8×5 inches.
func (lp LinePlot) Save(path string) error {
	p := plot.New()
	p.Title.Text = lp.Title
	p.X.Label.Text = lp.XLabel
	p.Y.Label.Text = lp.YLabel
	p.Legend.Top = !lp.LegendBottom
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	p.Y.Tick.Marker = niceTicks{}
	p.X.Tick.Marker = niceTicks{}
	if lp.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = ticks125{}
	}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for i, s := range lp.Series {
		if len(s.X) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j].X, xys[j].Y = s.X[j], s.Y[j]
			ymin, ymax = math.Min(ymin, s.Y[j]), math.Max(ymax, s.Y[j])
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", s.Name, err)
		}
		ci := s.Color
		if ci < 0 {
			ci = i
		}
		l.Color = Color(ci)
		l.Width = vg.Points(1.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	if !math.IsNaN(lp.YMin) {
		p.Y.Min = lp.YMin
	}
	if math.IsInf(ymax, -1) {
		ymin, ymax = 0, 1
	}
	top := math.Max(ymax, p.Y.Max)
	// Room for the legend: above the data, or right of it.
	if lp.LegendBottom {
		if lp.LogX {
			p.X.Max *= 1.6
		} else {
			p.X.Max += (p.X.Max - p.X.Min) * 0.35
		}
	} else {
		p.Y.Max = top + (top-p.Y.Min)*0.06*float64(len(lp.Series)+1)
	}
	for _, m := range lp.Markers {
		l, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: p.Y.Min}, {X: m.X, Y: top}})
		if err != nil {
			return err
		}
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		if m.Label != "" {
			labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.X, Y: top}}, Labels: []string{" " + m.Label}})
			if err != nil {
				return err
			}
			for i := range labels.TextStyle {
				labels.TextStyle[i].Font.Size = vg.Points(8)
				labels.TextStyle[i].YAlign = draw.YTop
			}
			p.Add(labels)
		}
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// StackPlot describes a stacked bar chart: one bar per category, one layer
// per part.
type StackPlot struct {
	Title, YLabel string
	Categories    []string
	// Layers[i][j] is part i of category j.
	LayerNames []string
	Layers     [][]float64
}

// Save draws the chart to path.
func (sp StackPlot) Save(path string) error {
	p := plot.New()
	p.Title.Text = sp.Title
	p.Y.Label.Text = sp.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.Y.Tick.Marker = niceTicks{}
	width := vg.Points(math.Max(8, math.Min(40, 400/float64(max(1, len(sp.Categories))))))
	var below *plotter.BarChart
	for i, layer := range sp.Layers {
		if allZero(layer) {
			continue
		}
		bc, err := plotter.NewBarChart(plotter.Values(layer), width)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", sp.LayerNames[i], err)
		}
		bc.LineStyle.Width = 0
		bc.Color = Color(i)
		if below != nil {
			bc.StackOn(below)
		}
		p.Add(bc)
		p.Legend.Add(sp.LayerNames[i], bc)
		below = bc
	}
	p.NominalX(sp.Categories...)
	p.X.Min, p.X.Max = -0.6, float64(len(sp.Categories))-0.4
	p.Y.Min = 0
	p.Y.Max *= 1 + 0.07*float64(len(sp.Layers))
	if len(sp.Categories) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
	}
	w := 8 * vg.Inch
	if len(sp.Categories) > 10 {
		w = vg.Length(len(sp.Categories)) * 0.8 * vg.Inch
	}
	return p.Save(w, 5*vg.Inch, path)
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// GroupedBars describes bars side by side: one cluster per category, one
// bar per group in each.
type GroupedBars struct {
	Title, YLabel string
	Categories    []string
	Groups        []string
	// Values[g][c] is group g's bar in category c.
	Values [][]float64
	// LogY draws the values on a log scale (for latencies spanning
	// milliseconds to seconds); values under 1 are drawn as 1.
	LogY bool
}

// log10Ticks labels an axis of log10 values with the values themselves at
// 1, 2 and 5 times powers of ten.
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (ticks125{}).Ticks(math.Pow(10, lo), math.Pow(10, hi)) {
		out = append(out, plot.Tick{Value: math.Log10(t.Value), Label: t.Label})
	}
	return out
}

// Save draws the chart to path.
func (gb GroupedBars) Save(path string) error {
	p := plot.New()
	p.Title.Text = gb.Title
	p.Y.Label.Text = gb.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.Y.Tick.Marker = niceTicks{}
	if gb.LogY {
		p.Y.Tick.Marker = log10Ticks{}
	}
	n := max(1, len(gb.Groups))
	width := vg.Points(math.Max(4, math.Min(20, 360/float64(n*max(1, len(gb.Categories))))))
	for g, vals := range gb.Values {
		if gb.LogY {
			logs := make([]float64, len(vals))
			for i, v := range vals {
				logs[i] = math.Log10(math.Max(v, 1))
			}
			vals = logs
		}
		bc, err := plotter.NewBarChart(plotter.Values(vals), width)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", gb.Groups[g], err)
		}
		bc.LineStyle.Width = 0
		bc.Color = Color(g)
		bc.Offset = vg.Length(float64(g)-float64(n-1)/2) * width
		p.Add(bc)
		p.Legend.Add(gb.Groups[g], bc)
	}
	p.NominalX(gb.Categories...)
	p.X.Min, p.X.Max = -0.6, float64(len(gb.Categories))-0.4
	p.Y.Min = 0
	if gb.LogY {
		p.Y.Max += 0.25 * float64(len(gb.Groups)) // room for the legend, in powers of ten
	} else {
		p.Y.Max *= 1 + 0.08*float64(len(gb.Groups))
	}
	if len(gb.Categories) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
