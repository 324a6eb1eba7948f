# kube-dns in Go: build, test and run.
SHELL := /usr/bin/env bash
GO ?= go
# Evaluated once: a commit made while make runs must not give the images one
# tag and the manifests another.
ifeq ($(origin VERSION),undefined)
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
endif
LDFLAGS := -X github.com/kubedns-go/kube-dns/pkg/version.Version=$(VERSION)
BINARIES := kube-dns dnsmasq-nanny sidecar
OUT := _output/bin
# -trimpath keeps build-cache keys independent of the checkout's path, so a
# fresh clone (CI) reuses what another checkout on the machine compiled.
TESTFLAGS := -trimpath -count=1

.PHONY: e2e manifests images node-programs node-up node-down node-test all build test unit race verify fuzz bench bench-go coredns vendor clean control-plane local-up local-down \
	deps-local deps-test deps-images deps-node deps-bench

all: build

build: ## Build every program into _output/bin.
	@mkdir -p $(OUT)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(OUT)/ $(addprefix ./cmd/,$(BINARIES))

# The Debian packages a target needs, installed when missing (apt-get as
# root; otherwise it prints what to run): first prerequisite of the targets
# that need them.
deps-local deps-test deps-images deps-node deps-bench:
	@hack/install-deps.sh $(@:deps-%=%)

test: deps-test verify control-plane unit race fuzz e2e node-test ## Every check and test; what CI runs.

e2e: build node-programs control-plane manifests ## The pod in network namespaces, resolved through glibc (root).
	hack/e2e.sh

manifests: ## Render cluster/ into _output/manifests (DNS_SERVER_IP, DNS_DOMAIN, DNS_MEMORY_LIMIT).
	hack/render-manifests.sh _output/manifests

control-plane: ## Build kube-apiserver, kubectl and etcd for the integration tests (once; cached in _output/).
	hack/build-control-plane.sh

local-up: deps-local build control-plane ## Run the pod on this machine against a local kube-apiserver.
	hack/local-up.sh up

local-down: ## Stop what local-up started.
	hack/local-up.sh down

verify: ## gofmt, go vet, vendor/ up to date.
	@bad=$$(gofmt -l cmd pkg hack 2>/dev/null); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet -trimpath ./...
	hack/verify-vendor.sh

unit: ## All Go tests, the integration tests against the local control plane included.
	$(GO) test $(TESTFLAGS) -timeout 20m ./...

# Every package whose code runs goroutines or shares state; the integration
# tests run the programs as processes, so the detector would see only the test.
RACE_PKGS = $(shell $(GO) list ./pkg/... ./cmd/... | grep -v /pkg/integration)

race: ## The packages that share state again under the race detector.
	$(GO) test $(TESTFLAGS) -race $(RACE_PKGS)

# Every fuzzer, as package:Fuzzer; their seed corpora are in the packages' testdata/fuzz.
FUZZERS := pkg/dns/server:FuzzServeDNS pkg/dns/server:FuzzFastReply pkg/kubeclient:FuzzDecode \
	pkg/kubeclient:FuzzStreamList pkg/dns/config:FuzzParse pkg/sidecar:FuzzParseProbe pkg/sidecar:FuzzParseTCPState
FUZZTIME ?= 20s

fuzz: ## Every fuzzer for FUZZTIME (20s) each; make test runs it.
	@for f in $(FUZZERS); do \
	  echo "fuzz $${f#*:} ($(FUZZTIME))"; \
	  GO=$(GO) hack/fuzz.sh $${f%%:*} $${f#*:} $(FUZZTIME) || exit 1; \
	done

bench-go: ## Go benchmarks with allocations.
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/dns/... ./pkg/kubeclient

COREDNS_VERSION ?= v1.14.7
BENCH_ARGS ?=
coredns: ## Build CoreDNS $(COREDNS_VERSION) for make bench and the node test's NodeLocal DNSCache (once; cached in _output/).
	COREDNS_VERSION=$(COREDNS_VERSION) hack/build-coredns.sh >/dev/null

bench: deps-bench build control-plane coredns ## The benchmark harness (hack/bench): kubedns, the pod, CoreDNS, Knot DNS and NSD (skipped when not installed) and static servers under dnsperf (installed when missing); BENCH_QUICK=1 for a smoke run.
	$(GO) test -run '^$$' -bench DecodeServiceList -benchmem ./pkg/kubeclient # the API edge against the informers' decoding (pkg/kubeclient's doc)
	$(GO) test -run '^$$' -bench NameTable ./pkg/dns/records # the name table against Go maps of string keys (pkg/dns/records/table.go)
	$(GO) build -trimpath -o $(OUT)/kubedns-bench ./hack/bench
	$(OUT)/kubedns-bench --coredns=_output/bin/coredns-$(COREDNS_VERSION)/coredns $(BENCH_ARGS)

REGISTRY ?= kubedns-go
images: deps-images build node-programs coredns ## The three images (and the node test's), built here with buildah on bases from mmdebstrap: _output/images/*.tar.
	REGISTRY=$(REGISTRY) VERSION=$(VERSION) hack/build-images.sh

# The node test's own programs: the pod sandbox's pause, my-nginx's stand-in, DNS load clients.
# dnsload links glibc (cgo) for its -libc lookups; the client image holds the same glibc.
NODE_PROGRAMS := pause web fanin
node-programs:
	@mkdir -p $(OUT)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(OUT)/ $(addprefix ./hack/node/,$(NODE_PROGRAMS))
	CGO_ENABLED=1 $(GO) build -trimpath -o $(OUT)/ ./hack/node/dnsload

NODE_DIR ?= _output/node
node-up: deps-node control-plane images ## A real node in a network namespace (kubelet, containerd, kube-proxy) running the add-on, my-nginx and a client pod.
	hack/node.sh up $(NODE_DIR)
	REGISTRY=$(REGISTRY) VERSION=$(VERSION) hack/node-apply.sh $(NODE_DIR)

node-down: ## Stop what node-up started.
	hack/node.sh down $(NODE_DIR)

node-test: deps-test control-plane images manifests ## The walkthrough by kubectl on a real node (root); make test runs it.
	REGISTRY=$(REGISTRY) VERSION=$(VERSION) hack/node-e2e.sh

vendor: ## Regenerate vendor/ from go.mod.
	$(GO) mod tidy
	$(GO) mod vendor

clean:
	rm -rf _output
