package kintest

// The agreement test's body types: every validation tag, on fields
// renamed by json tags, promoted from structs embedded by value and by
// pointer, hidden by shallower fields, behind pointers (nullable), in
// slices, maps and nested structs. Every field has an example, so the
// operation's composed example is a valid body to mutate.

// AgreeAudit is embedded by value: its fields are promoted.
type AgreeAudit struct {
	By string `json:"by" required:"true" minLength:"2" example:"ops"`
}

// AgreeTenant is embedded through a pointer.
type AgreeTenant struct {
	Tenant string `json:"tenant" pattern:"^[a-z]+$" example:"acme"`
}

// AgreeHidden's Note is hidden by AgreeBody's: encoding/json never fills
// it, so its constraint neither applies nor shows.
type AgreeHidden struct {
	Note string `minLength:"50" example:"never shown"`
}

// AgreeOwner is a nested struct with a required field.
type AgreeOwner struct {
	Email string `json:"email" required:"true" format:"email" example:"ada@example.com"`
	ID    string `json:"id" format:"uuid" example:"6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b"`
}

// AgreeItem is a slice element and a map value.
type AgreeItem struct {
	SKU string `json:"sku" required:"true" pattern:"^[A-Z]{3}-[0-9]{2}$" example:"ABC-12"`
	Qty int    `json:"qty" min:"1" max:"99" example:"3"`
}

// AgreeBody is the request body.
type AgreeBody struct {
	AgreeAudit
	*AgreeTenant
	AgreeHidden
	Note     string               `example:"hi"`
	Name     string               `json:"full_name" required:"true" minLength:"1" maxLength:"5" example:"Ada"`
	Age      *int                 `json:"age" min:"0" max:"130" example:"36"`
	Weight   *float64             `json:"weight" required:"true" min:"1" example:"2.5"`
	Score    float64              `json:"score" min:"0.5" max:"9.5" example:"1.5"`
	Level    int8                 `json:"level" enum:"1,2,3" example:"2"`
	Code     uint8                `json:"code" example:"7"`
	Kind     string               `json:"kind" enum:"cat,dog" example:"cat"`
	When     string               `json:"when" format:"date-time" example:"2024-01-02T03:04:05Z"`
	Tags     []string             `json:"tags" minLength:"1" maxLength:"3" enum:"a,b,c" example:"[\"a\"]"`
	Items    []AgreeItem          `json:"items" maxLength:"2"`
	Labels   map[string]string    `json:"labels" minLength:"1" maxLength:"2" example:"{\"k\":\"v\"}"`
	ByID     map[int]AgreeItem    `json:"by_id"`
	Owner    *AgreeOwner          `json:"owner"`
	Count    int                  `json:"count,string" example:"7"`
	OClock   int                  `json:"o'clock" example:"5"`
	Optional string               `json:"opt,omitempty" minLength:"3" example:"abcd"`
	Flags    map[string]AgreeItem `json:"flags"`
}
