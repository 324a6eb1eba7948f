package measure

import (
	"math"
	"strings"
	"testing"
)

const perfBySym = `# Total Lost Samples: 0
#
# Samples: 12K of event 'cpu-clock'
# Event count (approx.): 379792716
#
# Overhead  Shared Object         Symbol
# ........  ....................  ......
#
     5.71%  [kernel.kallsyms]     [k] finish_task_switch.isra.0
     7.20%  kube-dns              [.] runtime.tryDeferToSpanScan
     2.37%  kube-dns              [.] github.com/kubedns-go/kube-dns/pkg/dns/records.(*Index).get
`

const perfByDSO = `# Samples: 12K of event 'cpu-clock'
#
    75.68%  kube-dns
    23.88%  [kernel.kallsyms]
     0.26%  ld-linux-x86-64.so.2
`

func TestPerfReportParsing(t *testing.T) {
	if got := perfSamples([]byte(perfBySym)); got != 12000 {
		t.Errorf("samples = %d, want 12000", got)
	}
	rows := perfRows([]byte(perfBySym))
	if len(rows) != 3 || rows[0].Where != "runtime.tryDeferToSpanScan" || rows[0].DSO != "kube-dns" || math.Abs(rows[0].Share-0.072) > 1e-9 {
		t.Fatalf("rows = %+v, want the largest first", rows)
	}
	if rows[1].DSO != "[kernel.kallsyms]" || rows[1].Where != "finish_task_switch.isra.0" {
		t.Errorf("kernel row = %+v", rows[1])
	}
	var kernel float64
	for _, r := range perfRows([]byte(perfByDSO)) {
		if strings.HasPrefix(r.DSO, "[kernel") {
			kernel += r.Share
		}
	}
	if kernel < 0.2387 || kernel > 0.2389 {
		t.Errorf("kernel share = %v, want 0.2388", kernel)
	}
}
