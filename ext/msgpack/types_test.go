package msgpack_test

// The body types of the root package's presence and recursion tests, the
// same bodies sent in msgpack here.

type presItem struct {
	Qty  int    `json:"qty" required:"true" min:"0"`
	Note string `json:"note" minLength:"3"` // optional: checked only when sent
}

type presBase struct {
	Tenant string `json:"tenant" required:"true"`
}

type PresExtra struct {
	Flag int `json:"flag" min:"1"`
}

type presBody struct {
	presBase
	*PresExtra
	Qty    int                 `json:"qty" required:"true"`
	Active bool                `json:"active" required:"true"`
	Min    int                 `json:"min" min:"1"` // optional
	Name   string              `json:"name" minLength:"2"`
	Addr   *presAddr           `json:"addr"`
	Home   presAddr            `json:"home"`
	Items  []presItem          `json:"items"`
	Stock  map[string]presItem `json:"stock"`
	Pair   [2]presItem         `json:"pair"`
	Ptrs   []*presItem         `json:"ptrs"`
}

type presAddr struct {
	City string `json:"city" required:"true"`
	Zip  string `json:"zip" pattern:"^[0-9]{5}$"`
}

type presIn struct {
	Body presBody
}

type presAllocBody struct {
	Name  string              `json:"name" required:"true" minLength:"2"`
	Age   int                 `json:"age" required:"true" min:"0"`
	Nick  string              `json:"nick" minLength:"2"`
	Stock map[string]presItem `json:"stock"`
	Items []presItem          `json:"items"`
}

type presAllocPlain struct {
	Name  string `json:"name"`
	Age   int    `json:"age"`
	Nick  string `json:"nick"`
	Stock map[string]struct {
		Qty  int    `json:"qty"`
		Note string `json:"note"`
	} `json:"stock"`
	Items []struct {
		Qty  int    `json:"qty"`
		Note string `json:"note"`
	} `json:"items"`
}

type recBin struct {
	Name  string  `json:"name" minLength:"1"`
	Left  *recBin `json:"left"`
	Right *recBin `json:"right"`
}

type recTern struct {
	Name  string   `json:"name" minLength:"1"`
	Left  *recTern `json:"left"`
	Right *recTern `json:"right"`
	Mid   *recTern `json:"mid"`
}

type recKids struct {
	Name     string    `json:"name" minLength:"1"`
	Children []recKids `json:"children"`
}

type recMap struct {
	Name string            `json:"name" minLength:"1"`
	Sub  map[string]recMap `json:"sub"`
}

type recMutA struct {
	Name string   `json:"name" required:"true"`
	B    *recMutB `json:"b"`
}

type recMutB struct {
	Tag string   `json:"tag" maxLength:"3"`
	A   *recMutA `json:"a"`
}

type recWrap struct {
	Items []recKids          `json:"items"`
	By    map[string]*recMap `json:"by"`
}

// RecEmbed embeds a pointer to itself.
type RecEmbed struct {
	*RecEmbed
	Name string    `json:"name" minLength:"1"`
	Next *RecEmbed `json:"next"`
}

type valItem struct {
	Qty  int    `json:"qty" min:"1"`
	Name string `json:"name" pattern:"^[a-z]+$"`
}

type mapsIn struct {
	Body struct {
		Items map[string]valItem `json:"items"`
		Arr   [3]valItem         `json:"arr"`
		Tags  map[string]string  `json:"tags" minLength:"1" pattern:"^[a-z]+$"`
	}
}
