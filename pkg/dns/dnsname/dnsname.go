// Package dnsname holds the few operations on domain names in presentation
// form that the record builder, the query handler and the nanny share:
// lower-casing (ASCII only, RFC 4343), a name's parent and first label, and
// whether a name is in a zone.
package dnsname

import "strings"

// Lower returns name with ASCII letters in lower case, without allocating
// when it already is. Other bytes are kept: DNS compares names ignoring the
// case of ASCII letters only (RFC 4343).
func Lower(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			var b strings.Builder // one allocation, the result
			b.Grow(len(name))
			b.WriteString(name[:i])
			for j := i; j < len(name); j++ {
				c := name[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
			return b.String()
		}
	}
	return name
}

// Fqdn returns name in lower case with one trailing dot.
func Fqdn(name string) string {
	name = Lower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// Parent returns name without its first label ("a.b." -> "b."), or "" at
// the root.
func Parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// FirstLabel returns the first label of name ("a.b." -> "a").
func FirstLabel(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

// InZone reports whether the lower-case FQDN name (a string, or the bytes
// of one) is zone or below it; zone is a lower-case FQDN too.
func InZone[T string | []byte](name T, zone string) bool {
	if len(name) < len(zone) || string(name[len(name)-len(zone):]) != zone {
		return false
	}
	return len(name) == len(zone) || zone == "." || name[len(name)-len(zone)-1] == '.'
}
