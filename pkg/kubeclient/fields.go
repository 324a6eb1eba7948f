package kubeclient

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The fields of each kind that its slim type is made from, by Go field name;
// their protobuf numbers come from the generated types' struct tags.
var (
	metaFields      = selectFields[metav1.ObjectMeta]("Name", "Namespace", "ResourceVersion", "CreationTimestamp", "Annotations")
	sliceMetaFields = selectFields[metav1.ObjectMeta]("Name", "Namespace", "ResourceVersion", "CreationTimestamp", "Annotations", "Labels")
	serviceFields   = selectFields[corev1.Service]("ObjectMeta", "Spec")
	specFields      = selectFields[corev1.ServiceSpec]("Ports", "ClusterIP", "Type", "ExternalName", "PublishNotReadyAddresses", "ClusterIPs")
	sliceFields     = selectFields[discoveryv1.EndpointSlice]("ObjectMeta", "Endpoints", "Ports", "AddressType")
	endpointFields  = selectFields[discoveryv1.Endpoint]("Addresses", "Conditions", "Hostname")
	endpointsFields = selectFields[corev1.Endpoints]("ObjectMeta", "Subsets") //nolint:staticcheck // a decoded kind
	namespaceFields = selectFields[corev1.Namespace]("ObjectMeta")
	podFields       = selectFields[corev1.Pod]("ObjectMeta", "Status")
	podStatusFields = selectFields[corev1.PodStatus]("Phase", "PodIP", "PodIPs")

	metadataField  = fieldNumber[corev1.Service]("ObjectMeta") // the same in every kind
	podStatusField = fieldNumber[corev1.Pod]("Status")
	specField      = fieldNumber[corev1.Service]("Spec")
	endpointField  = fieldNumber[discoveryv1.EndpointSlice]("Endpoints")
)

// unmarshaler is a type with a generated protobuf Unmarshal, which merges
// the fields it reads into the object.
type unmarshaler interface{ Unmarshal([]byte) error }

// selection is the protobuf field numbers of the fields to unmarshal of one
// generated type.
type selection []protowire.Number

// subMessage is a field whose payload is unmarshalled by a selection of its
// own, rather than whole: into m, or for a repeated field into the element
// add appends.
type subMessage struct {
	num  protowire.Number
	m    unmarshaler
	add  func() unmarshaler
	keep selection
}

// unmarshal unmarshals the selected fields of message b into m, one field
// at a time with m's generated Unmarshal (each merges into m as it would
// within the whole message), and skips the other fields unread. The
// fields of subs are unmarshalled through their own selections.
//
// A message that fails so is unmarshalled again whole, as the standard
// decoder does: the generated code bounds a map entry's key and value by the
// end of the message it is reading rather than of the entry, so an entry
// whose value runs past its end is accepted within the whole message (the
// value takes the bytes that follow) but not alone.
func (s selection) unmarshal(b []byte, m unmarshaler, subs ...subMessage) error {
	if err := s.unmarshalSelected(b, m, subs); err != nil {
		reflect.ValueOf(m).Elem().SetZero()
		return m.Unmarshal(b)
	}
	return nil
}

func (s selection) unmarshalSelected(b []byte, m unmarshaler, subs []subMessage) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		if !slices.Contains(s, p.num) {
			continue // skipped by next
		}
		var sub *subMessage
		for i := range subs {
			if subs[i].num == p.num {
				sub = &subs[i]
			}
		}
		if sub != nil {
			if payload, ok := p.bytesField(); ok {
				into := sub.m
				if sub.add != nil {
					into = sub.add()
				}
				p.err = sub.keep.unmarshal(payload, into)
			}
			continue
		}
		start := p.start
		if p.err = p.skip(start); p.err == nil {
			p.err = m.Unmarshal(p.b[start:p.i])
		}
	}
	return p.err
}

// selectFields returns the field numbers of the named fields of T.
func selectFields[T any](names ...string) selection {
	s := make(selection, len(names))
	for i, n := range names {
		s[i] = fieldNumber[T](n)
	}
	return s
}

// fieldNumber returns the protobuf field number of T's field name, from its
// struct tag (`protobuf:"bytes,1,opt,name=metadata"`).
func fieldNumber[T any](name string) protowire.Number {
	t := reflect.TypeFor[T]()
	f, ok := t.FieldByName(name)
	if !ok {
		panic(fmt.Sprintf("kubeclient: %s has no field %s", t, name))
	}
	parts := strings.Split(f.Tag.Get("protobuf"), ",")
	if len(parts) < 2 {
		panic(fmt.Sprintf("kubeclient: %s.%s has no protobuf tag", t, name))
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n <= 0 {
		panic(fmt.Sprintf("kubeclient: %s.%s: protobuf tag %q", t, name, f.Tag.Get("protobuf")))
	}
	return protowire.Number(n)
}
