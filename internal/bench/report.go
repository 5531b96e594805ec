package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// SetRatios fills each result's ratio to the ceiling's rate.
func SetRatios(results []Result, ceilingRPS float64) {
	if ceilingRPS <= 0 {
		return
	}
	for i := range results {
		results[i].Ratio = results[i].RPS / ceilingRPS
	}
}

// WriteTable prints results as an aligned table, one scenario a row,
// followed by any error kinds and notes.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\treq/s\tp50\tp99\tmax\terrors\tvs ceiling\tserver CPU/req\t")
	for _, r := range results {
		ratio := "-"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.3f", r.Ratio)
		}
		cpu := "-"
		if r.ServerCPU > 0 && r.Requests > 0 {
			cpu = FormatDuration(r.ServerCPU / time.Duration(r.Requests))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", r.Scenario, Thousands(int64(r.RPS+0.5)),
			FormatDuration(r.P50), FormatDuration(r.P99), FormatDuration(r.Max), r.Errors, ratio, cpu)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Errors > 0 {
			var parts []string
			for _, k := range SortedKinds(r.ErrorKinds) {
				parts = append(parts, fmt.Sprintf("%s ×%d", k, r.ErrorKinds[k]))
			}
			fmt.Fprintf(w, "  %s errors: %s\n", r.Scenario, strings.Join(parts, ", "))
		}
		if r.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Scenario, r.Note)
		}
	}
	return nil
}

// WriteJSON writes v indented, for --json.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// FormatDuration renders a latency with three significant digits in the
// unit that suits it: 412µs, 1.27ms, 2.05s.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + "ms"
	default:
		return sig3(float64(d)/1e9) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// Thousands renders n with comma separators: 1,234,567.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Bytes renders a size in binary units: 342 B, 48.1 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
