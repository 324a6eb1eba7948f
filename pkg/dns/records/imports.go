package records

import "strings"

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
// headless import reads them. It returns nil when the multicluster zone is
// off.
func (c *Config) ImportRecords(imp *ServiceImport, sets []EndpointSet) *Fragment {
	if c.Multicluster == "" {
		return nil
	}
	b := fragmentBuilder{c: c, key: ImportKeyPrefix + imp.Namespace + "/" + imp.Name}
	name := strings.ToLower(imp.Name + "." + imp.Namespace + ".svc." + c.Multicluster)
	if imp.Headless {
		b.headless(name, sets, false, true)
		return b.seal()
	}
	b.virtualIPs(name, imp.IPs, imp.Ports)
	return b.seal()
}

// ImportKeyPrefix starts the key of an import's fragment, so that it differs
// from the key of the Service of the same name, whose records may share
// names with it (the PTR of an address both publish).
const ImportKeyPrefix = "mcs:"
