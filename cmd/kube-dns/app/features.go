package app

import (
	"os"

	"k8s.io/client-go/features"
)

// watchListEnv is client-go's switch for streaming a reflector's initial
// objects over a watch instead of listing them.
const watchListEnv = "KUBE_FEATURE_WatchListClient"

// preferList makes the reflectors list their initial objects, unless the
// environment sets KUBE_FEATURE_WatchListClient. client-go 1.35 streams them
// by default; at 10,000 Services listing synced in about 350 ms against
// 550-950 ms streamed, and the initial sync is most of the time to the first
// answer.
func preferList() {
	if _, set := os.LookupEnv(watchListEnv); set {
		return
	}
	features.ReplaceFeatureGates(listGates{features.FeatureGates()})
}

type listGates struct{ features.Gates }

func (g listGates) Enabled(f features.Feature) bool {
	return f != features.WatchListClient && g.Gates.Enabled(f)
}
