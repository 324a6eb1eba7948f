package records

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// ImportRecords computes the records of one ServiceImport in the
// multicluster zone, as KEP-1645's DNS specification 1.0.0 defines them,
// with the cluster domain's conventions where it leaves a choice:
//
//   - a ClusterSetIP import: A/AAAA of its IPs at <svc>.<ns>.svc.<zone>,
//     SRV for every port there and for each named one at
//     _<port>._<proto>.<svc>.<ns>.svc.<zone>, PTR of each IP;
//   - a headless import: A/AAAA of every source cluster's ready endpoints
//     at the same name, each endpoint's own
//     <hostname>.<clusterid>.<svc>.<ns>.svc.<zone>, SRV per endpoint and
//     port (bare and named), PTR per endpoint address.
//
// No record names one cluster's backends (<clusterid>.<svc>.<ns>.svc.<zone>
// exists only as an empty non-terminal above a headless import's endpoint
// names). sets are the import's EndpointSlices with their clusters; only a
// headless import reads them, and only those whose cluster can name them
// (CheckCluster). It returns nil when the multicluster zone is off.
//
// The PTR records of an address the cluster domain names too are not
// served (Index.node): the cluster-local name is the address's only one.
func (c *Config) ImportRecords(imp *ServiceImport, sets []EndpointSet) *Fragment {
	if c.Multicluster == "" {
		return nil
	}
	b := fragmentBuilder{c: c, key: ImportKeyPrefix + imp.Namespace + "/" + imp.Name}
	name := c.importName(imp)
	if imp.Headless {
		b.headless(name, sets, false, true)
		return b.seal()
	}
	b.virtualIPs(name, imp.IPs, imp.Ports)
	return b.seal()
}

// importName returns <svc>.<ns>.svc.<zone>.
func (c *Config) importName(imp *ServiceImport) string {
	return strings.ToLower(imp.Name + "." + imp.Namespace + ".svc." + c.Multicluster)
}

// ImportKeyPrefix starts the key of an import's fragment, so that it differs
// from the key of the Service of the same name, whose records may share
// names with it (the PTR of an address both publish).
const ImportKeyPrefix = "mcs:"

// imported reports whether f is a ServiceImport's fragment.
func (f *Fragment) imported() bool { return strings.HasPrefix(f.key, ImportKeyPrefix) }

// CheckCluster returns why the endpoints that cluster (an EndpointSlice's
// multicluster.kubernetes.io/source-cluster label) exports for imp cannot
// be named, or nil when they can. A cluster id is a DNS subdomain
// (KEP-2149), compared in lower case: one label or several, dot-separated,
// each of at most 63 octets, and <clusterid>.<svc>.<ns>.svc.<zone> no
// longer than 253.
func (c *Config) CheckCluster(imp *ServiceImport, cluster string) error {
	_, err := clusterName(cluster, c.importName(imp))
	return err
}

// errNoCluster is CheckCluster's answer for a slice without a source cluster.
var errNoCluster = errors.New("no source cluster")

// clusterName returns <clusterid>.<name>, the name a headless import's
// endpoints from cluster are named below (name is the import's), or why
// there is none (CheckCluster).
func clusterName(cluster, name string) (string, error) {
	id := dnsname.Lower(cluster)
	if id == "" {
		return "", errNoCluster
	}
	if errs := validation.IsDNS1123Subdomain(id); len(errs) > 0 {
		return "", fmt.Errorf("source cluster %q is not a DNS subdomain: %s", cluster, strings.Join(errs, "; "))
	}
	base := id + "." + name
	if !validName(base) {
		return "", fmt.Errorf("source cluster %q: %s has a label longer than 63 octets or is longer than 253", cluster, base)
	}
	return base, nil
}

// localPTR returns the fragments that serve the reverse name name: when a
// Service's fragment has records there (the address is a cluster IP or an
// endpoint the cluster domain names), the ServiceImports' are left out, so
// the address answers its cluster-local name only; the clusterset PTR is
// for addresses the cluster domain does not name. Any other name keeps
// frags. This is decided here, when a name's node is built, so that
// queries read the answer as it is.
func localPTR(name string, frags []*Fragment) []*Fragment {
	if !dnsname.InZone(name, ReverseV4) && !dnsname.InZone(name, ReverseV6) {
		return frags
	}
	local := 0
	for _, f := range frags {
		if !f.imported() {
			local++
		}
	}
	if local == 0 || local == len(frags) {
		return frags
	}
	out := make([]*Fragment, 0, local)
	for _, f := range frags {
		if !f.imported() {
			out = append(out, f)
		}
	}
	return out
}
