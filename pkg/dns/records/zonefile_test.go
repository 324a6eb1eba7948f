package records

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestWriteZone checks that the zone files of a snapshot hold exactly the
// answer records of its names, each in its own zone, with the SOA and the
// apex NS first, and that a zone-file parser reads them back.
func TestWriteZone(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	c := &Config{Domain: "cluster.local.", TTL: 30, DNSService: "kube-system/kube-dns", Multicluster: "clusterset.local."}
	b := NewBuilder(c)
	b.AddService(c.ServiceRecords(&Service{Namespace: "kube-system", Name: "kube-dns",
		ClusterIPs: []netip.Addr{netip.MustParseAddr("10.254.0.10")}, Ports: []Port{{Name: "dns", Protocol: "udp", Port: 53}}}, nil))
	b.AddService(c.ServiceRecords(&Service{Namespace: "ns0", Name: "ext", Kind: ExternalName, ExternalName: "example.com"}, nil))
	for range 40 {
		s, sets := randomService(r)
		b.AddService(c.ServiceRecords(&s, sets))
	}
	snap := b.Finish(1764700000)

	want := map[string][]string{} // zone: every answer record, the SOA's included
	snap.Range(func(n *Node) {
		for _, set := range n.Sets() {
			rrs, _ := set.Records(n.Name())
			for _, rr := range rrs {
				z := snap.Zone(n.Name())
				want[z] = append(want[z], rr.String())
			}
		}
	})
	for _, zone := range snap.Config().Zones() {
		if zone == "" {
			continue
		}
		var out strings.Builder
		if err := snap.WriteZone(&out, zone); err != nil {
			t.Fatal(err)
		}
		zp := dns.NewZoneParser(strings.NewReader(out.String()), zone, "")
		var got []string
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			got = append(got, rr.String())
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("%s: %v\n%s", zone, err, out.String())
		}
		if len(got) < 2 || !strings.Contains(got[0], "\tSOA\t") || !strings.HasPrefix(got[1], zone+"\t") || !strings.Contains(got[1], "\tNS\t") {
			t.Errorf("%s: does not start with the SOA and the apex NS:\n%s", zone, out.String())
		}
		slices.Sort(got)
		w := slices.Clone(want[zone])
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: zone file\n\t%s\nsnapshot\n\t%s", zone, strings.Join(got, "\n\t"), strings.Join(w, "\n\t"))
		}
	}
	if err := snap.WriteZone(&strings.Builder{}, "example.com."); err == nil {
		t.Error("WriteZone of a zone the snapshot does not serve: no error")
	}
}
