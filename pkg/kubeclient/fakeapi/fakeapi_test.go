package fakeapi

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		gvr  schema.GroupVersionResource
		ns   string
		ok   bool
	}{
		{path: "/api/v1/services", gvr: schema.GroupVersionResource{Version: "v1", Resource: "services"}, ok: true},
		{path: "/api/v1/namespaces/kube-system/configmaps", gvr: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, ns: "kube-system", ok: true},
		{path: "/api/v1/namespaces", gvr: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, ok: true},
		{path: "/apis/discovery.k8s.io/v1/endpointslices", gvr: schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, ok: true},
		{path: "/apis/multicluster.x-k8s.io/v1alpha1/namespaces/a/serviceimports", gvr: schema.GroupVersionResource{Group: "multicluster.x-k8s.io", Version: "v1alpha1", Resource: "serviceimports"}, ns: "a", ok: true},
		{path: "/api/v1/namespaces/a/services/web"},
		{path: "/healthz"},
	} {
		gvr, ns, ok := parsePath(tc.path)
		if ok != tc.ok || (ok && (gvr != tc.gvr || ns != tc.ns)) {
			t.Errorf("parsePath(%q) = %v, %q, %v; want %v, %q, %v", tc.path, gvr, ns, ok, tc.gvr, tc.ns, tc.ok)
		}
	}
}
