package measure

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Thousands writes v rounded, with a comma between thousands.
func Thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Ms writes seconds as milliseconds; "lost" for +Inf, "–" for NaN.
func Ms(sec float64) string {
	switch {
	case math.IsNaN(sec):
		return "–"
	case math.IsInf(sec, 1):
		return "lost"
	case sec < 0.01:
		return fmt.Sprintf("%.3f ms", sec*1000)
	default:
		return fmt.Sprintf("%.1f ms", sec*1000)
	}
}

// MiB writes KiB as MiB; "–" for none.
func MiB(kb int64) string {
	if kb == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}

// Dur writes a duration as Ms does; "–" for none.
func Dur(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return Ms(d.Seconds())
}
