package config

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// NewConfigMapSource returns a Source watching the ConfigMap namespace/name
// through the API, and only that one (a field selector on its name). A
// ConfigMap that is absent or deleted means Default(). Run sends nothing
// before the first list has succeeded.
func NewConfigMapSource(client kubeclient.Interface, namespace, name string, m *Metrics) Source {
	return &configMapSource{client: client, namespace: namespace, name: name, m: m}
}

type configMapSource struct {
	client          kubeclient.Interface
	namespace, name string
	m               *Metrics
	backoff         apiretry.Backoff // zero: apiretry's default
}

func (s *configMapSource) key() string { return s.namespace + "/" + s.name }

func (s *configMapSource) Run(ctx context.Context, ch chan<- *Config) error {
	if s.client == nil {
		return errors.New("config: nil client")
	}
	inf, err := s.informer()
	if err != nil {
		return err
	}
	changed := make(chan struct{}, 1) // coalesces events
	notify := func(obj any) {
		if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil && k == s.key() {
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    notify,
		UpdateFunc: func(_, obj any) { notify(obj) },
		DeleteFunc: notify,
	}); err != nil {
		return fmt.Errorf("config: ConfigMap event handler: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { inf.RunWithContext(ctx) })
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil // ctx ended first
	}

	t := &tracker{m: s.m, source: "configmap:" + s.key(), logger: klog.FromContext(ctx)}
	for {
		data, version := map[string]string(nil), ""
		obj, exists, err := inf.GetStore().GetByKey(s.key())
		if cm, ok := obj.(*corev1.ConfigMap); err == nil && exists && ok {
			data, version = cm.Data, cm.ResourceVersion
			if version == "" { // not from an API server: tell versions apart by content
				version = "sha256:" + dataVersion(data)
			}
		}
		if c := t.update(data, nil, version); c != nil && !send(ctx, ch, c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// informer returns an informer over the one ConfigMap, with slim objects and
// list and watch calls that retry while the API server is unreachable and
// report other errors once.
func (s *configMapSource) informer() (cache.SharedIndexInformer, error) {
	byName := fields.OneTermEqualSelector("metadata.name", s.name).String()
	retry := apiretry.New("configmaps", apiretry.Options{Name: s.key(), Meanwhile: "the last configuration",
		Role: "Role", Backoff: s.backoff, Metrics: s.m.api()})
	lw := apiretry.ListerWatcher(s.client.ListWatch("configmaps", s.namespace, byName), retry)
	inf := cache.NewSharedIndexInformer(lw, &corev1.ConfigMap{}, 0, cache.Indexers{})
	if err := inf.SetTransform(slimConfigMap); err != nil {
		return nil, fmt.Errorf("config: ConfigMap transform: %w", err)
	}
	if err := inf.SetWatchErrorHandlerWithContext(retry.HandleWatchError); err != nil {
		return nil, fmt.Errorf("config: ConfigMap watch error handler: %w", err)
	}
	return inf, nil
}

// slimConfigMap keeps what the source reads: the identity, the version and
// the data. Anything else (a tombstone) passes through.
func slimConfigMap(obj any) (any, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return obj, nil
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cm.Name, Namespace: cm.Namespace, ResourceVersion: cm.ResourceVersion},
		Data:       cm.Data,
	}, nil
}
