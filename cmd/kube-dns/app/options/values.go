package options

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// domainValue is --domain: stored lower-cased with a trailing dot.
type domainValue struct{ p *string }

func (v domainValue) Set(s string) error {
	d, err := normalizeDomain(s)
	if err != nil {
		return err
	}
	*v.p = d
	return nil
}

func (v domainValue) String() string { return *v.p }
func (v domainValue) Type() string   { return "string" }

// optionalDomainValue is --multicluster-domain: a domainValue that may be
// set to "" (off).
type optionalDomainValue struct{ p *string }

func (v optionalDomainValue) Set(s string) error {
	if s == "" {
		*v.p = ""
		return nil
	}
	return domainValue(v).Set(s)
}

func (v optionalDomainValue) String() string { return *v.p }
func (v optionalDomainValue) Type() string   { return "string" }

// masterURLValue is --kube-master-url: environment variables are expanded
// and the result must be a URL with a scheme and a host. "" unsets it.
type masterURLValue struct{ p *string }

func (v masterURLValue) Set(s string) error {
	if s == "" {
		*v.p = ""
		return nil
	}
	expanded := os.ExpandEnv(s)
	if err := checkMasterURL(expanded); err != nil {
		return err
	}
	*v.p = expanded
	return nil
}

func (v masterURLValue) String() string { return *v.p }
func (v masterURLValue) Type() string   { return "string" }

// federationsValue is --federations: name=domain pairs separated by commas,
// added to the map (repeating the flag accumulates, as in the original).
type federationsValue struct{ p *map[string]string }

func (v federationsValue) Set(s string) error {
	parsed := map[string]string{}
	if strings.TrimSpace(s) != "" {
		for _, pair := range strings.Split(s, ",") {
			name, domain, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				return fmt.Errorf("%q is not name=domain", pair)
			}
			name, domain = strings.TrimSpace(name), strings.TrimSpace(domain)
			if err := checkFederation(name, domain); err != nil {
				return err
			}
			parsed[name] = domain
		}
	}
	if *v.p == nil {
		*v.p = map[string]string{}
	}
	for name, domain := range parsed {
		(*v.p)[name] = domain
	}
	return nil
}

func (v federationsValue) String() string {
	pairs := make([]string, 0, len(*v.p))
	for name, domain := range *v.p {
		pairs = append(pairs, name+"="+domain)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (v federationsValue) Type() string { return "mapStringString" }
