package server

import "strings"

// lowerName returns name in lower case, without allocating when it already is.
func lowerName(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// parent returns name without its first label, or "" at the root.
func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// firstLabel returns the first label of name.
func firstLabel(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

// hasWildcard reports whether some label of name is "*".
func hasWildcard(name string) bool {
	for {
		if firstLabel(name) == "*" {
			return true
		}
		if name = parent(name); name == "" {
			return false
		}
	}
}
