package jwt_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/graftgo/graft"
	graftjwt "github.com/graftgo/graft/plugins/auth/jwt"
)

// UserClaims are the claims the example's tokens carry.
type UserClaims struct {
	gojwt.RegisteredClaims
	Admin bool `json:"admin"`
}

type meIn struct {
	User *UserClaims `plugin:""`
}

type meOut struct{ Body string }

// An endpoint that asks for the claims gets them from a verified bearer
// token; without one it answers 401.
func Example() {
	secret := []byte("an HMAC secret of at least 32 bytes!")
	app := graft.New(graft.Config{})
	app.UsePlugins(graftjwt.New[UserClaims](graftjwt.Config{
		Algorithms: []string{"HS256"}, Key: secret, Audience: "me", Realm: "example",
	}))
	graft.Get(app, "/me", func(_ context.Context, in *meIn) (*meOut, error) {
		return &meOut{Body: "hello " + in.User.Subject}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(context.Background())
	srv := httptest.NewServer(app)
	defer srv.Close()

	tok, _ := gojwt.NewWithClaims(gojwt.SigningMethodHS256, UserClaims{RegisteredClaims: gojwt.RegisteredClaims{
		Subject: "ada", Audience: gojwt.ClaimStrings{"me"}, ExpiresAt: gojwt.NewNumericDate(time.Now().Add(time.Hour)),
	}}).SignedString(secret)
	for _, auth := range []string{"", "Bearer " + tok} {
		req, _ := http.NewRequest("GET", srv.URL+"/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Www-Authenticate"), string(b))
	}
	// Output:
	// 401 Bearer realm="example" {"type":"about:blank","title":"Unauthorized","status":401,"detail":"send the header Authorization: Bearer TOKEN","instance":"/me"}
	// 200  hello ada
}
