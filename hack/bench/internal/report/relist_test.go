package report

import (
	"strings"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

func TestRelistReport(t *testing.T) {
	kd := contender.Contender{Name: "kubedns", Relist: true}
	cd := contender.Contender{Name: "coredns", Relist: true}
	sizes := []*measure.Size{{N: 10000, Results: []*measure.Result{
		{C: kd, Relist: &measure.RelistResult{Steady: 40 << 10, Peak: 48 << 10, After: 47 << 10, Hwm: true,
			Down: 5 * time.Second, Listed: 5200 * time.Millisecond, Relist: 40 * time.Millisecond,
			Lists: map[string]int{"services": 1, "endpointslices": 1, "namespaces": 2}}},
		{C: cd, Relist: &measure.RelistResult{Steady: 90 << 10, Peak: 180 << 10, Hwm: true, Lists: map[string]int{}}},
	}}}
	var b strings.Builder
	renderRelist(&b, sizes)
	row := "| 10000 | kubedns | 40.0 MiB | 48.0 MiB | 1.20× | 47.0 MiB | 5000.0 ms | 5200.0 ms | 40.0 ms | 1 / 1 / 2 |"
	if !strings.Contains(b.String(), row) {
		t.Errorf("relist table lacks\n%s\nin\n%s", row, b.String())
	}
	targets, err := ParseTargets("relist-ratio kubedns each <=1.3x")
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := checkTargets(&measure.Config{}, targets, sizes)
	if len(rows) != 1 || rows[0].verdict != "met" || rows[0].ours != "1.20×" {
		t.Errorf("targets = %+v", rows)
	}
	sizes[0].Results[0].Relist.Peak = 53 << 10
	if rows, _ := checkTargets(&measure.Config{}, targets, sizes); rows[0].verdict != "**missed**" {
		t.Errorf("peak 1.33× steady: %+v, want missed", rows[0])
	}
}
