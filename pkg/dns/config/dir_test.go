package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// period is the polling period of the directory sources under test.
const period = 2 * time.Millisecond

// kubeletVolume writes a ConfigMap volume the way the kubelet's AtomicWriter
// does: each version in a timestamped hidden directory, "..data" a symlink to
// the current one, and each key a top-level symlink into "..data".
type kubeletVolume struct {
	t   *testing.T
	dir string
	n   int
	cur string // current timestamped directory
}

func newKubeletVolume(t *testing.T, data map[string]string) *kubeletVolume {
	t.Helper()
	v := &kubeletVolume{t: t, dir: t.TempDir()}
	v.write(data)
	return v
}

// write publishes a new version of the data atomically.
func (v *kubeletVolume) write(data map[string]string) {
	v.t.Helper()
	v.n++
	ts := fmt.Sprintf("..2026_01_02_03_04_05.%09d", v.n)
	must(v.t, os.Mkdir(filepath.Join(v.dir, ts), 0o755))
	for k, val := range data {
		must(v.t, os.WriteFile(filepath.Join(v.dir, ts, k), []byte(val), 0o644))
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	must(v.t, os.Symlink(ts, tmp))
	must(v.t, os.Rename(tmp, filepath.Join(v.dir, "..data")))
	for k := range data {
		link := filepath.Join(v.dir, k)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			must(v.t, os.Symlink(filepath.Join("..data", k), link))
		}
	}
	entries, err := os.ReadDir(v.dir)
	must(v.t, err)
	for _, e := range entries {
		if _, ok := data[e.Name()]; !ok && e.Name()[0] != '.' {
			must(v.t, os.Remove(filepath.Join(v.dir, e.Name())))
		}
	}
	if v.cur != "" {
		must(v.t, os.RemoveAll(filepath.Join(v.dir, v.cur)))
	}
	v.cur = ts
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDirSourceKubeletSwaps(t *testing.T) {
	m, reg := newTestMetrics()
	vol := newKubeletVolume(t, map[string]string{
		KeyStubDomains:         `{"acme.local": ["1.2.3.4"]}`,
		KeyUpstreamNameservers: `["8.8.8.8"]`,
	})
	ch := run(t, NewDirSource(vol.dir, period, m))
	first := expect(t, ch, &Config{
		StubDomains:         map[string][]string{"acme.local": {"1.2.3.4"}},
		UpstreamNameservers: []string{"8.8.8.8:53"},
	})
	if len(first.Version) != 64 {
		t.Errorf("Version %q, want a sha256", first.Version)
	}

	steps := []struct {
		name     string
		data     map[string]string
		want     *Config // nil: rejected, nothing sent
		rejected string  // key whose counter goes up
	}{
		{
			name: "valid swap applies",
			data: map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.5:5353"]}`, KeyUpstreamNameservers: `["8.8.8.8"]`},
			want: &Config{StubDomains: map[string][]string{"acme.local": {"1.2.3.5:5353"}}, UpstreamNameservers: []string{"8.8.8.8:53"}},
		},
		{
			name:     "invalid swap keeps the old config",
			data:     map[string]string{KeyStubDomains: `{"acme.local": []}`, KeyUpstreamNameservers: `["8.8.8.8"]`},
			rejected: KeyStubDomains,
		},
		{
			name:     "another invalid swap",
			data:     map[string]string{KeyUpstreamNameservers: `["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]`},
			rejected: KeyUpstreamNameservers,
		},
		{
			name: "later valid swap applies, removed key back to its default",
			data: map[string]string{KeyUpstreamNameservers: `["[2001:db8::1]:5353"]`},
			want: &Config{UpstreamNameservers: []string{"[2001:db8::1]:5353"}},
		},
		{
			name: "unknown key added, same effect: nothing sent",
			data: map[string]string{KeyUpstreamNameservers: `["[2001:db8::1]:5353"]`, "unrelated": "x"},
		},
		{
			name: "all keys removed",
			data: map[string]string{},
			want: Default(),
		},
	}
	wantUpdates := 1.0
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := rejected(t, reg, st.rejected)
			reloads := metricValue(t, reg, "kubedns_config_last_reload_success_timestamp_seconds")
			vol.write(st.data)
			switch {
			case st.want != nil:
				wantUpdates++
				expect(t, ch, st.want)
			case st.rejected != "":
				waitFor(t, "the rejection", func() bool { return rejected(t, reg, st.rejected) == before+1 })
				expectNothing(t, ch)
			default:
				// A valid read with the same effect still counts as a reload.
				waitFor(t, "the reload", func() bool {
					return metricValue(t, reg, "kubedns_config_last_reload_success_timestamp_seconds") > reloads
				})
				expectNothing(t, ch)
			}
			if got := updates(t, reg); got != wantUpdates {
				t.Errorf("updates_total = %v, want %v", got, wantUpdates)
			}
		})
	}
}

func TestDirSourceStartup(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string) // dir does not exist yet
		want     *Config
		rejected string
	}{
		{
			name:  "missing directory",
			setup: func(*testing.T, string) {},
			want:  Default(),
		},
		{
			name:  "empty directory",
			setup: func(t *testing.T, dir string) { must(t, os.Mkdir(dir, 0o755)) },
			want:  Default(),
		},
		{
			name: "plain directory: dot-files, unknown directories and dangling symlinks skipped",
			setup: func(t *testing.T, dir string) {
				must(t, os.Mkdir(dir, 0o755))
				must(t, os.WriteFile(filepath.Join(dir, KeyStubDomains), []byte(`{"Acme.Local.": ["dns.corp"]}`), 0o644))
				must(t, os.WriteFile(filepath.Join(dir, "."+KeyUpstreamNameservers), []byte("not JSON"), 0o644))
				must(t, os.Mkdir(filepath.Join(dir, "lost+found"), 0o755))
				must(t, os.Symlink("nowhere", filepath.Join(dir, KeyUpstreamNameservers)))
			},
			want: &Config{StubDomains: map[string][]string{"acme.local": {"dns.corp"}}},
		},
		{
			name: "kubelet layout with hidden files inside ..data",
			setup: func(t *testing.T, dir string) {
				vol := newKubeletVolume(t, map[string]string{KeyFederations: "f=example.com", ".stubDomains": "{"})
				must(t, os.Symlink(vol.dir, dir))
			},
			want: &Config{Federations: map[string]string{"f": "example.com"}},
		},
		{
			name: "invalid at startup means the defaults",
			setup: func(t *testing.T, dir string) {
				must(t, os.Mkdir(dir, 0o755))
				must(t, os.WriteFile(filepath.Join(dir, KeyStubDomains), []byte(`{"acme.local": ["1.2.3.4:0"]}`), 0o644))
			},
			want:     Default(),
			rejected: KeyStubDomains,
		},
		{
			name: "not UTF-8",
			setup: func(t *testing.T, dir string) {
				must(t, os.Mkdir(dir, 0o755))
				must(t, os.WriteFile(filepath.Join(dir, KeyUpstreamNameservers), []byte("[\"8.8.8.8\xff\"]"), 0o644))
			},
			want:     Default(),
			rejected: KeyUpstreamNameservers,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newTestMetrics()
			dir := filepath.Join(t.TempDir(), "kube-dns-config")
			tt.setup(t, dir)
			ch := run(t, NewDirSource(dir, period, m))
			expect(t, ch, tt.want)
			for _, k := range knownKeys {
				want := 0.0
				if k == tt.rejected {
					want = 1
				}
				if got := rejected(t, reg, k); got != want {
					t.Errorf("rejected{key=%q} = %v, want %v", k, got, want)
				}
			}

			// Valid data written later, in place of everything, are applied.
			must(t, os.RemoveAll(dir))
			must(t, os.Mkdir(dir, 0o755))
			must(t, os.WriteFile(filepath.Join(dir, KeyUpstreamNameservers), []byte(`["9.9.9.9"]`), 0o644))
			// The source may see the empty directory in between: skip it.
			want := &Config{UpstreamNameservers: []string{"9.9.9.9:53"}}
			for got := recv(t, ch); !sameEffect(got, want); got = recv(t, ch) {
				if !sameEffect(got, Default()) {
					t.Fatalf("received %+v, want %+v", got, want)
				}
			}
		})
	}
}

func TestDataVersion(t *testing.T) {
	a := dataVersion(map[string]string{"ab": "c"})
	b := dataVersion(map[string]string{"a": "bc"})
	if a == b || a == "" {
		t.Errorf("versions of different data: %q and %q", a, b)
	}
	if a != dataVersion(map[string]string{"ab": "c"}) {
		t.Error("version not stable")
	}
	if v := dataVersion(nil); v != "" {
		t.Errorf("version of no data = %q, want empty", v)
	}
}

func TestNewDirSourceDefaultPeriod(t *testing.T) {
	if s := NewDirSource("x", 0, nil).(*dirSource); s.period != DefaultPeriod {
		t.Errorf("period %v, want %v", s.period, DefaultPeriod)
	}
}

func TestDirSourceReadError(t *testing.T) {
	m, reg := newTestMetrics()
	base := t.TempDir()
	dir := filepath.Join(base, "kube-dns-config") // a symlink, first to a file
	must(t, os.WriteFile(filepath.Join(base, "file"), []byte("not a directory"), 0o644))
	must(t, os.Symlink("file", dir))
	ch := run(t, NewDirSource(dir, period, m))
	expect(t, ch, Default()) // unreadable at startup: the defaults meanwhile

	must(t, os.Mkdir(filepath.Join(base, "fixed"), 0o755))
	must(t, os.WriteFile(filepath.Join(base, "fixed", KeyUpstreamNameservers), []byte(`["9.9.9.9"]`), 0o644))
	must(t, os.Symlink("fixed", dir+".tmp"))
	must(t, os.Rename(dir+".tmp", dir))
	expect(t, ch, &Config{UpstreamNameservers: []string{"9.9.9.9:53"}})
	for _, k := range knownKeys {
		if got := rejected(t, reg, k); got != 0 {
			t.Errorf("rejected{key=%q} = %v: an I/O error is not a rejection", k, got)
		}
	}
}

func TestReadConfigDirSwapped(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "..v1"), 0o755))
	must(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	// A file vanishing under the ..data target: the kubelet removed the version being read.
	must(t, os.Symlink("gone", filepath.Join(dir, "..v1", KeyStubDomains)))
	if _, _, _, err := readConfigDir(dir); !errors.Is(err, errSwapped) {
		t.Errorf("readConfigDir = %v, want %v", err, errSwapped)
	}
}
