package records

import (
	"bufio"
	"fmt"
	"io"

	"github.com/miekg/dns"
)

// WriteZone writes every record of the snapshot in zone (an apex of
// Config.Zones) as an RFC 1035 master file, one record a line: the zone's
// SOA and apex NS first, then each name's records in lexical order of the
// names. Only the answer records of each set are written; the additional
// records of SRV and NS sets are other names' records, written at those
// names. It reads the snapshot through its public API only (Range, Sets,
// Records, SOA), the way any other reader sees it.
//
// What no master file can hold is not written, and a server loading the file
// answers it differently: names that exist without records (a namespace
// without Services, pod.<domain>: NODATA here, NXDOMAIN there), the pod names
// answered for any address in insecure pod mode, and wildcard answers, which
// kubedns synthesizes per query.
func (s *Snapshot) WriteZone(w io.Writer, zone string) error {
	soa := s.SOA(zone)
	if soa == nil {
		return fmt.Errorf("records: %q is not a zone of the snapshot", zone)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "; %s serial %d\n%s\n", zone, soa.Serial, soa)
	if apex := s.Lookup(zone); apex != nil {
		writeSets(bw, apex, func(t uint16) bool { return t == dns.TypeNS })
	}
	s.Range(func(n *Node) {
		if n.Name() == zone {
			writeSets(bw, n, func(t uint16) bool { return t != dns.TypeNS && t != dns.TypeSOA })
		} else if s.Zone(n.Name()) == zone {
			writeSets(bw, n, func(uint16) bool { return true })
		}
	})
	return bw.Flush()
}

// writeSets writes the answer records of the node's sets whose type keep
// accepts.
func writeSets(w *bufio.Writer, n *Node, keep func(uint16) bool) {
	for _, set := range n.Sets() {
		if !keep(set.Type) {
			continue
		}
		rrs, _ := set.Records(n.Name())
		for _, rr := range rrs {
			w.WriteString(rr.String())
			w.WriteByte('\n')
		}
	}
}
