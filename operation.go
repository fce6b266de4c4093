package graft

import "reflect"

// Operation is how a route is described in API documents (OpenAPI): its
// id, summary, description, tags and whether it is deprecated. The options
// Summary, Description, Tags, OperationID and Deprecated set it at
// registration; OperationOf reads it.
type Operation struct {
	// ID is the operation id; "" lets the document generator derive one
	// from the method and the path.
	ID string
	// Summary is a one-line summary.
	Summary string
	// Description is a longer description (CommonMark).
	Description string
	// Tags group operations in the docs page: the tags of the route's
	// groups, outer first, then its own, without repeats.
	Tags []string
	// Deprecated marks the operation as deprecated (it or one of its
	// groups was registered with Deprecated()).
	Deprecated bool
}

// operation is what the documentation options store in settings.
type operation struct {
	id, summary, description string
	tags                     []string
	deprecated               bool
}

// Summary sets the one-line summary of a route's operation.
func Summary(s string) Option {
	return func(st *settings) { st.op.summary = s }
}

// Description sets the description (CommonMark) of a route's operation.
func Description(s string) Option {
	return func(st *settings) { st.op.description = s }
}

// OperationID sets the operation id of a route; ids must be unique in a
// document, and the generator stops start-up naming both routes when two
// share one.
func OperationID(id string) Option {
	return func(st *settings) { st.op.id = id }
}

// Tags adds tags to a route's operation; given to a group, to every route
// of the group and its sub-groups.
func Tags(tags ...string) Option {
	return func(st *settings) { st.op.tags = append(st.op.tags, tags...) }
}

// Deprecated marks a route's operation as deprecated; given to a group,
// every route of the group and its sub-groups.
func Deprecated() Option {
	return func(st *settings) { st.op.deprecated = true }
}

// Operation returns how the route is described in API documents; see
// OperationOf.
func (ri *Route) Operation() Operation { return OperationOf(ri) }

// OperationOf returns how the route ri is described: its own options,
// with the tags and deprecation of its groups.
func OperationOf(ri *Route) Operation {
	rt := ri.rt
	op := Operation{ID: rt.op.id, Summary: rt.op.summary, Description: rt.op.description, Deprecated: rt.op.deprecated}
	seen := map[string]bool{}
	add := func(tags []string) {
		for _, t := range tags {
			if !seen[t] {
				seen[t] = true
				op.Tags = append(op.Tags, t)
			}
		}
	}
	for _, s := range rt.sc.lineage() {
		add(s.op.tags)
		op.Deprecated = op.Deprecated || s.op.deprecated
	}
	add(rt.op.tags)
	return op
}

// ParseConstraints reads the validation tags of a struct field (`required`,
// `min`, `max`, `minLength`, `maxLength`, `pattern`, `enum`, `format`)
// exactly as typed endpoints compile them, for document generators that
// must show the constraints the validator enforces.
func ParseConstraints(tag reflect.StructTag) (c Constraints, required bool, err error) {
	return parseConstraints(tag)
}
