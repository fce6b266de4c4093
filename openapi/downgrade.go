package openapi

// downgrade renders a 3.1 document as 3.0.3, for the generators that read
// only 3.0: type arrays with "null" become nullable, schema examples
// lists become one example, contentMediaType and contentEncoding become
// format binary and byte, keywords beside a $ref move into an allOf, and
// numeric exclusive bounds become 3.0's boolean ones. It returns a copy.
func downgrade(doc *obj) *obj {
	d := clone(doc).(*obj)
	d.set("openapi", "3.0.3")
	walk30(d)
	return d
}

func walk30(v any) {
	switch v := v.(type) {
	case *obj:
		schema30(v)
		for i, k := range v.keys {
			switch k {
			case "example", "default", "enum":
				// user data: never rewritten
			case "properties", "schemas":
				// maps whose keys are names, not keywords
				if m, ok := v.vals[i].(*obj); ok {
					for _, x := range m.vals {
						walk30(x)
					}
				}
			default:
				walk30(v.vals[i])
			}
		}
	case []any:
		for _, x := range v {
			walk30(x)
		}
	}
}

// schema30 rewrites the 3.1-only keywords of one object in place. The
// generator only writes these keywords in schemas (media types and
// parameters use "example"), so no other object is touched.
func schema30(o *obj) {
	if t, ok := o.get("type"); ok {
		if ts, ok := t.([]any); ok {
			var kept []any
			null := false
			for _, x := range ts {
				if x == "null" {
					null = true
				} else {
					kept = append(kept, x)
				}
			}
			if len(kept) == 1 {
				o.set("type", kept[0])
			} else {
				o.del("type") // 3.0 has no type unions: any type
			}
			if null {
				o.set("nullable", true)
			}
		}
	}
	if ex, ok := o.get("examples"); ok {
		if l, ok := ex.([]any); ok {
			o.del("examples")
			if len(l) > 0 {
				o.set("example", l[0])
			}
		}
	}
	if _, ok := o.get("contentMediaType"); ok {
		o.del("contentMediaType")
		o.set("format", "binary")
	}
	if enc, ok := o.get("contentEncoding"); ok && enc == "base64" {
		o.del("contentEncoding")
		o.set("format", "byte")
	}
	for _, k := range [...]string{"exclusiveMinimum", "exclusiveMaximum"} {
		if v, ok := o.get(k); ok {
			if _, isBool := v.(bool); !isBool {
				bound := "minimum"
				if k == "exclusiveMaximum" {
					bound = "maximum"
				}
				o.set(bound, v)
				o.set(k, true)
			}
		}
	}
	if c, ok := o.get("const"); ok {
		o.del("const")
		o.set("enum", []any{c})
	}
	refToAllOf(o)
}

// refToAllOf moves the keywords beside a $ref into an allOf with it, for
// the schema dialects (OpenAPI 3.0, JSON Schema draft 07) that ignore
// them.
func refToAllOf(o *obj) {
	if r, ok := o.get("$ref"); ok && len(o.keys) > 1 {
		rest := &obj{}
		for i, k := range o.keys {
			if k != "$ref" {
				rest.set(k, o.vals[i])
			}
		}
		*o = obj{}
		o.set("allOf", []any{(&obj{}).set("$ref", r)})
		for i, k := range rest.keys {
			o.set(k, rest.vals[i])
		}
	}
}
