package integration

import (
	"context"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEndpointsSource reads headless endpoints from core/v1 Endpoints, as the
// original did, with --endpoints-source=endpoints.
func TestEndpointsSource(t *testing.T) {
	requireCluster(t)
	const ns = "it-endpoints"
	createNamespace(t, ns)
	createService(t, headlessService(ns, "db", false, port("pg", corev1.ProtocolTCP, 5432)))
	//nolint:staticcheck // core/v1 Endpoints is what this mode reads.
	eps := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "10.40.0.1", Hostname: "db-0"}, {IP: "10.40.0.2"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.40.0.3"}},
			Ports:             []corev1.EndpointPort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if _, err := env.admin.CoreV1().Endpoints(ns).Create(context.Background(), eps, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := startKubeDNS(t, "--endpoints-source=endpoints")
	k.waitReady(t)
	k.waitAnswer(t, "db."+ns+".svc.cluster.local.", dns.TypeA, "A 10.40.0.1, A 10.40.0.2")
	k.waitAnswer(t, "db-0.db."+ns+".svc.cluster.local.", dns.TypeA, "A 10.40.0.1")
	k.waitAnswer(t, "_pg._tcp.db."+ns+".svc.cluster.local.", dns.TypeSRV,
		"SRV 0 50 5432 10-40-0-2.db."+ns+".svc.cluster.local., SRV 0 50 5432 db-0.db."+ns+".svc.cluster.local.")
}

// TestVerifiedPods answers pod names only for pods that exist, with the pods
// ClusterRole bound.
func TestVerifiedPods(t *testing.T) {
	requireCluster(t)
	const ns = "it-pods"
	createNamespace(t, ns)
	if err := kubectl("create", "clusterrolebinding", "kube-dns-pods", "--clusterrole=kube-dns:pods",
		"--serviceaccount=kube-system:kube-dns"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = kubectl("delete", "clusterrolebinding", "kube-dns-pods") }()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
	ctx := context.Background()
	created, err := env.admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.PodIP = "10.50.0.1"
	created.Status.PodIPs = []corev1.PodIP{{IP: "10.50.0.1"}}
	if _, err := env.admin.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := startKubeDNS(t, "--pod-records=verified")
	k.waitReady(t)
	k.waitAnswer(t, "10-50-0-1."+ns+".pod.cluster.local.", dns.TypeA, "A 10.50.0.1")
	k.waitAnswer(t, "10-50-0-2."+ns+".pod.cluster.local.", dns.TypeA, "NXDOMAIN")
	if err := env.admin.CoreV1().Pods(ns).Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	k.waitAnswer(t, "10-50-0-1."+ns+".pod.cluster.local.", dns.TypeA, "NXDOMAIN")
}
