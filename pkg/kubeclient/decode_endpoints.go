package kubeclient

// Decoders of EndpointSlice (discovery/v1) and Endpoints (core/v1).

func (d *decoder) endpointSlice(b []byte, e *EndpointSlice) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1:
			if m, err = p.field(num, typ); err == nil {
				err = d.objectMeta(m, &e.Meta, &e.ServiceName)
			}
		case 2:
			if m, err = p.field(num, typ); err == nil {
				if e.Endpoints == nil {
					e.Endpoints = make([]Endpoint, 0, count(b, 2))
				}
				e.Endpoints = append(e.Endpoints, Endpoint{})
				err = endpoint(m, &e.Endpoints[len(e.Endpoints)-1])
			}
		case 3:
			if m, err = p.field(num, typ); err == nil {
				if e.Ports == nil {
					e.Ports = make([]EndpointPort, 0, count(b, 3))
				}
				e.Ports = append(e.Ports, EndpointPort{})
				err = endpointPort(m, &e.Ports[len(e.Ports)-1])
			}
		case 4:
			if m, err = p.field(num, typ); err == nil {
				e.AddressType = intern(m)
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func endpoint(b []byte, e *Endpoint) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1:
			if m, err = p.field(num, typ); err == nil {
				e.Addresses = append(e.Addresses, string(m))
			}
		case 2: // conditions
			if m, err = p.field(num, typ); err == nil {
				err = endpointConditions(m, e)
			}
		case 3:
			if m, err = p.field(num, typ); err == nil {
				h := string(m)
				e.Hostname = &h
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func endpointConditions(b []byte, e *Endpoint) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		if num == 1 {
			var v uint64
			if v, err = p.uint(num, typ); err == nil {
				ready := v != 0
				e.Ready = &ready
			}
		} else {
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func endpointPort(b []byte, ep *EndpointPort) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1:
			if m, err = p.field(num, typ); err == nil {
				s := intern(m)
				ep.Name = &s
			}
		case 2:
			if m, err = p.field(num, typ); err == nil {
				s := intern(m)
				ep.Protocol = &s
			}
		case 3:
			var v uint64
			if v, err = p.uint(num, typ); err == nil {
				port := int32(v)
				ep.Port = &port
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) endpoints(b []byte, e *Endpoints) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1:
			if m, err = p.field(num, typ); err == nil {
				err = d.objectMeta(m, &e.Meta, nil)
			}
		case 2:
			if m, err = p.field(num, typ); err == nil {
				if e.Subsets == nil {
					e.Subsets = make([]EndpointSubset, 0, count(b, 2))
				}
				e.Subsets = append(e.Subsets, EndpointSubset{})
				err = endpointSubset(m, &e.Subsets[len(e.Subsets)-1])
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func endpointSubset(b []byte, s *EndpointSubset) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1, 2:
			if m, err = p.field(num, typ); err == nil {
				as := &s.Addresses
				if num == 2 {
					as = &s.NotReadyAddresses
				}
				if *as == nil {
					*as = make([]EndpointAddress, 0, count(b, num))
				}
				*as = append(*as, EndpointAddress{})
				err = endpointAddress(m, &(*as)[len(*as)-1])
			}
		case 3:
			if m, err = p.field(num, typ); err == nil {
				if s.Ports == nil {
					s.Ports = make([]ServicePort, 0, count(b, 3))
				}
				s.Ports = append(s.Ports, ServicePort{})
				err = coreEndpointPort(m, &s.Ports[len(s.Ports)-1])
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func endpointAddress(b []byte, a *EndpointAddress) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1:
			if m, err = p.field(num, typ); err == nil {
				a.IP = string(m)
			}
		case 3:
			if m, err = p.field(num, typ); err == nil {
				a.Hostname = string(m)
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// coreEndpointPort decodes a core/v1 EndpointPort, whose field numbers differ
// from ServicePort's.
func coreEndpointPort(b []byte, sp *ServicePort) error {
	p := buf{b: b}
	for p.more() {
		start := p.i
		num, typ, err := p.key()
		if err != nil {
			return err
		}
		var m []byte
		switch num {
		case 1:
			if m, err = p.field(num, typ); err == nil {
				sp.Name = intern(m)
			}
		case 2:
			var v uint64
			if v, err = p.uint(num, typ); err == nil {
				sp.Port = int32(v)
			}
		case 3:
			if m, err = p.field(num, typ); err == nil {
				sp.Protocol = intern(m)
			}
		default:
			err = p.skip(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
