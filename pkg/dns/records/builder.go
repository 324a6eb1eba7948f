package records

// SOA timers. The minimum (negative-caching TTL) is the record TTL.
const (
	soaRefresh = 7200
	soaRetry   = 1800
	soaExpire  = 86400
)

// Builder assembles one Snapshot from scratch: add everything, then call
// Finish. It is an Index used once, for tests and tools; kubedns keeps an
// Index and publishes it after each change.
type Builder struct {
	x      *Index
	spaces []string
	pods   []Pod
}

// NewBuilder returns a Builder for the given configuration.
func NewBuilder(c *Config) *Builder { return &Builder{x: NewIndex(c)} }

// AddService adds the records of one Service.
func (b *Builder) AddService(f *Fragment) {
	if f != nil {
		b.x.SetService(f.key, f)
	}
}

// AddNamespace makes <ns>.svc.<domain> (and <ns>.pod.<domain>) exist.
func (b *Builder) AddNamespace(name string) { b.spaces = append(b.spaces, name) }

// AddPod adds a pod address; it is served only in verified pod mode.
func (b *Builder) AddPod(p Pod) { b.pods = append(b.pods, p) }

// Wildcards returns the wildcard view of what was added; call it after Finish.
func (b *Builder) Wildcards() *Wildcards { return b.x.Wildcards() }

// Finish returns the Snapshot. The Builder must not be used afterwards,
// but for Wildcards.
func (b *Builder) Finish(serial uint32) *Snapshot {
	b.x.SetNamespaces(b.spaces)
	b.x.SetPods(b.pods)
	return b.x.Publish(serial)
}

// AddImport adds the records of one ServiceImport (ImportRecords).
func (b *Builder) AddImport(f *Fragment) {
	if f != nil {
		b.x.SetImport(f.key, f)
	}
}
