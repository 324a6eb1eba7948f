package memlimit

import (
	"testing"
	"testing/fstest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestLimit(t *testing.T) {
	const v1Host = "4:memory:/pods/a\n3:cpu:/\n0::/\n"
	tests := []struct {
		name string
		fs   fstest.MapFS
		want int64
	}{
		{"no proc", fstest.MapFS{}, 0},
		{"v1 host, limited", fstest.MapFS{
			"proc/self/cgroup":                         file(v1Host),
			"sys/fs/cgroup/memory/pods/a/memory.stat":  file("cache 1\nhierarchical_memory_limit 178257920\n"),
			"sys/fs/cgroup/memory/memory.stat":         file("hierarchical_memory_limit 9223372036854771712\n"),
			"sys/fs/cgroup/unified/cgroup.controllers": file(""),
		}, 178257920},
		{"v1 host, unlimited", fstest.MapFS{
			"proc/self/cgroup":                        file(v1Host),
			"sys/fs/cgroup/memory/pods/a/memory.stat": file("hierarchical_memory_limit 9223372036854771712\n"),
		}, 0},
		{"v1 container: the mount's root is its cgroup", fstest.MapFS{
			"proc/self/cgroup":                 file("11:memory,hugetlb:/kubepods/burstable/pod1/c1\n"),
			"sys/fs/cgroup/memory/memory.stat": file("hierarchical_memory_limit 178257920\n"),
		}, 178257920},
		{"v2 container with its own namespace", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("178257920\n"),
		}, 178257920},
		{"v2 host: the parent's limit is smaller", fstest.MapFS{
			"proc/self/cgroup":                         file("0::/a.slice/b.scope\n"),
			"sys/fs/cgroup/a.slice/b.scope/memory.max": file("max\n"),
			"sys/fs/cgroup/a.slice/memory.max":         file("104857600\n"),
		}, 104857600},
		{"v2, no limit", fstest.MapFS{
			"proc/self/cgroup":           file("0::/a\n"),
			"sys/fs/cgroup/a/memory.max": file("max\n"),
		}, 0},
		{"v2 without the memory controller", fstest.MapFS{
			"proc/self/cgroup":             file("0::/a\n"),
			"sys/fs/cgroup/a/cgroup.procs": file("1\n"),
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Limit(tt.fs)
			if err != nil || got != tt.want {
				t.Errorf("Limit = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
