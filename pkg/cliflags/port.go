package cliflags

// ValidPort reports whether p is a port number a flag may name: 1 to 65535.
func ValidPort(p int) bool { return p >= 1 && p <= 65535 }
