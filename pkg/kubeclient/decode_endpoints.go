package kubeclient

// Decoders of EndpointSlice (discovery/v1) and Endpoints (core/v1).

func (d *decoder) endpointSlice(b []byte, e *EndpointSlice) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				p.err = d.objectMeta(m, &e.Meta, &e.ServiceName, &e.ChangeTrigger)
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				if e.Endpoints == nil {
					e.Endpoints = make([]Endpoint, 0, count(b, 2))
				}
				e.Endpoints = append(e.Endpoints, Endpoint{})
				p.err = endpoint(m, &e.Endpoints[len(e.Endpoints)-1])
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				if e.Ports == nil {
					e.Ports = make([]EndpointPort, 0, count(b, 3))
				}
				e.Ports = append(e.Ports, EndpointPort{})
				p.err = endpointPort(m, &e.Ports[len(e.Ports)-1])
			}
		case 4:
			if m, ok := p.bytesField(); ok {
				e.AddressType = intern(m)
			}
		}
	}
	return p.err
}

func endpoint(b []byte, e *Endpoint) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				e.Addresses = append(e.Addresses, string(m))
			}
		case 2: // conditions
			if m, ok := p.bytesField(); ok {
				p.err = endpointConditions(m, e)
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				h := string(m)
				e.Hostname = &h
			}
		}
	}
	return p.err
}

func endpointConditions(b []byte, e *Endpoint) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		if p.num == 1 {
			if v, ok := p.varintField(); ok {
				ready := v != 0
				e.Ready = &ready
			}
		}
	}
	return p.err
}

func endpointPort(b []byte, ep *EndpointPort) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				s := intern(m)
				ep.Name = &s
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				s := intern(m)
				ep.Protocol = &s
			}
		case 3:
			if v, ok := p.varintField(); ok {
				port := int32(v)
				ep.Port = &port
			}
		}
	}
	return p.err
}

func (d *decoder) endpoints(b []byte, e *Endpoints) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				p.err = d.objectMeta(m, &e.Meta, nil, &e.ChangeTrigger)
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				if e.Subsets == nil {
					e.Subsets = make([]EndpointSubset, 0, count(b, 2))
				}
				e.Subsets = append(e.Subsets, EndpointSubset{})
				p.err = endpointSubset(m, &e.Subsets[len(e.Subsets)-1])
			}
		}
	}
	return p.err
}

func endpointSubset(b []byte, s *EndpointSubset) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1, 2:
			if m, ok := p.bytesField(); ok {
				as := &s.Addresses
				if p.num == 2 {
					as = &s.NotReadyAddresses
				}
				if *as == nil {
					*as = make([]EndpointAddress, 0, count(b, p.num))
				}
				*as = append(*as, EndpointAddress{})
				p.err = endpointAddress(m, &(*as)[len(*as)-1])
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				if s.Ports == nil {
					s.Ports = make([]ServicePort, 0, count(b, 3))
				}
				s.Ports = append(s.Ports, ServicePort{})
				p.err = coreEndpointPort(m, &s.Ports[len(s.Ports)-1])
			}
		}
	}
	return p.err
}

func endpointAddress(b []byte, a *EndpointAddress) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				a.IP = string(m)
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				a.Hostname = string(m)
			}
		}
	}
	return p.err
}

// coreEndpointPort decodes a core/v1 EndpointPort, whose field numbers differ
// from ServicePort's.
func coreEndpointPort(b []byte, sp *ServicePort) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				sp.Name = intern(m)
			}
		case 2:
			if v, ok := p.varintField(); ok {
				sp.Port = int32(v)
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				sp.Protocol = intern(m)
			}
		}
	}
	return p.err
}
