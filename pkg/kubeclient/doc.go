// Package kubeclient is a small Kubernetes API client for the few resources
// kube-dns reads.
//
// It links only core/v1 and discovery/v1 and decodes the API server's
// protobuf into slim objects that keep just the fields DNS needs: a list is
// read item by item, each item unmarshalled by k8s.io/api's generated code
// and slimmed at once, so the full objects of a list are never all alive.
//
// Why not client-go informers with SetTransform, as CoreDNS does: kube-dns
// built that way (commit b0028c9: a clientset asking for protobuf, each
// object slimmed as it arrives) was measured against this client by make
// bench on 2026-12-07, in three runs (hack/bench/history.md). Against the
// informers as client-go has them by default, streaming the initial list,
// this client started at least 25% faster at 10,000 and at 50,000 Services
// in every run (217 against 513 ms and 914 against 1,469 ms on a quiet
// machine), and peaked at 172 MiB through a relist of 50,000 Services
// against 208: by the rule set before the measurement, it stays. Informers
// that list rather than stream started within 14% and 5% of it on a quiet
// machine (49% and 36% on a busy one) but peaked at 362 MiB through that
// relist, 22% more at rest at 10,000 Services, and started in 0.54x
// CoreDNS's time where this client takes 0.46x. The binary is 27 MB here,
// 43 MB with the clientset. BenchmarkDecodeServiceList reruns the
// comparison at the decoding step, and make bench compares any build
// (--baseline-kubedns) end to end.
//
// Since then a relist takes the store's unchanged objects (Known): 158 MiB
// at that peak.
//
// Tests read through this client too, against a fake clientset served over
// HTTP by package fakeapi.
package kubeclient
