package dnsmasq

import (
	"os"
	"strconv"
	"strings"
)

// DefaultConfFile is the configuration file dnsmasq reads when its
// arguments name none (Debian's build).
const DefaultConfFile = "/etc/dnsmasq.conf"

// dnsmasqArgs is what the nanny must know of dnsmasq's own arguments to
// decide who reads resolv.conf and where the servers file may go.
type dnsmasqArgs struct {
	noResolv    bool     // --no-resolv/-R, or a first --resolv-file without a file
	resolvFiles []string // --resolv-file=F, -r F; none means /etc/resolv.conf
	confFiles   []string // --conf-file=F, -C F (but /dev/null), --conf-dir, --conf-script
	noDefault   bool     // a --conf-file/-C: the default configuration file is not read
	serversFile string   // --servers-file
	user        string   // --user/-u: the user dnsmasq changes to when started as root
	maxTCP      int      // --max-tcp-connections: TCP children at once (0: dnsmasq's 20)
	forwardMax  int      // --dns-forward-max/-0: queries forwarded at once (0: dnsmasq's 150)
}

// The long options the nanny looks for, with their one-letter forms. "server"
// is here because it is a prefix of "servers-file": getopt takes an exact
// name over a prefix.
var longOpts = map[string]struct{ short byte }{
	"no-resolv":    {'R'},
	"resolv-file":  {'r'},
	"conf-file":    {'C'},
	"conf-dir":     {'7'},
	"conf-script":  {0},
	"servers-file": {0},
	"user":         {'u'},
	"server":       {'S'},

	"max-tcp-connections": {0},
	"dns-forward-max":     {'0'},
}

// requiredValue are the long options above whose value is required, so may
// be the next argument; the others take one only after "=".
var requiredValue = map[string]bool{"conf-dir": true, "conf-script": true, "servers-file": true, "server": true,
	"max-tcp-connections": true, "dns-forward-max": true}

// shortWithValue are dnsmasq 2.90's one-letter options that take a value
// (its getopt string); the others take none.
const shortWithValue = "rmpclsitugaxSCATHQIBFGOMXVUjPJWY2467803"

// longName resolves a long option as getopt_long does for the options the
// nanny looks for: an exact name, or a prefix of exactly one of them. A
// prefix that dnsmasq finds ambiguous makes dnsmasq fail anyway.
func longName(s string) string {
	if _, ok := longOpts[s]; ok {
		return s
	}
	found := ""
	for name := range longOpts {
		if strings.HasPrefix(name, s) {
			if found != "" {
				return ""
			}
			found = name
		}
	}
	return found
}

// parseDnsmasqArgs reads the options of interest from dnsmasq's command
// line. Unknown options are skipped; a long option's value is taken from
// the next argument only for the options above that require one.
func parseDnsmasqArgs(args []string) dnsmasqArgs {
	var a dnsmasqArgs
	resolvSeen := false
	set := func(opt string, value string, hasValue bool) {
		switch opt {
		case "no-resolv":
			a.noResolv = true
		case "resolv-file":
			// The first one replaces the default, possibly with nothing;
			// later ones add to the list.
			switch {
			case hasValue && value != "":
				a.resolvFiles = append(a.resolvFiles, value)
			case !resolvSeen:
				a.noResolv = true
			}
			resolvSeen = true
		case "conf-file":
			a.noDefault = true
			if hasValue && value != "" && value != "/dev/null" {
				a.confFiles = append(a.confFiles, value)
			}
		case "conf-dir", "conf-script":
			a.confFiles = append(a.confFiles, value)
		case "servers-file":
			a.serversFile = value
		case "user":
			a.user = value
		case "max-tcp-connections":
			a.maxTCP, _ = strconv.Atoi(value) // dnsmasq refuses what is no number
		case "dns-forward-max":
			a.forwardMax, _ = strconv.Atoi(value)
		}
	}
	byShort := map[byte]string{}
	for name, o := range longOpts {
		if o.short != 0 {
			byShort[o.short] = name
		}
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case strings.HasPrefix(arg, "--") && len(arg) > 2:
			name, value, hasValue := strings.Cut(arg[2:], "=")
			name = longName(name)
			if name == "" {
				continue
			}
			if !hasValue && requiredValue[name] && i+1 < len(args) {
				i++
				value, hasValue = args[i], true
			}
			set(name, value, hasValue)
		case strings.HasPrefix(arg, "-") && len(arg) > 1 && arg != "--":
			// A bundle of one-letter options; one that takes a value takes
			// the rest of the bundle, or else the next argument.
			for j := 1; j < len(arg); j++ {
				c := arg[j]
				if !strings.ContainsRune(shortWithValue, rune(c)) {
					if name, ok := byShort[c]; ok {
						set(name, "", false)
					}
					continue
				}
				value := arg[j+1:]
				if value == "" && i+1 < len(args) {
					i++
					value = args[i]
				}
				if name, ok := byShort[c]; ok {
					set(name, value, true)
				}
				break
			}
		}
	}
	return a
}

// readsConfFiles reports whether dnsmasq may read configuration files,
// which could hold options the nanny cannot see: the ones its arguments
// name, or defaultConf when they name none and it exists.
func (a dnsmasqArgs) readsConfFiles(defaultConf string) bool {
	if len(a.confFiles) > 0 {
		return true
	}
	if a.noDefault || defaultConf == "" {
		return false
	}
	_, err := os.Stat(defaultConf)
	return err == nil
}
