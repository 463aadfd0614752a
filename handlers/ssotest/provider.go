// Package ssotest serves a real OpenID Connect provider for tests:
// zitadel's pkg/op with its example storage and login page, on a loopback
// address, with Callbook as its one client and accounts the test chooses.
package ssotest

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The client Callbook is at the provider, and every account's password.
const (
	ClientID     = "callbook"
	ClientSecret = "idp-client-secret"
	Password     = "idp-password"
	// LoginPath is the provider's login form: fields username, password
	// and the hidden id of the sign-in (the authRequestID query parameter).
	LoginPath = "/login/username"
)

// Account is a person the provider knows, signing in as Username.
type Account struct {
	Username      string
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
}

// Start serves the provider at addr (a free loopback host:port) until the
// test ends and returns its issuer URL. Callbook may redirect back to
// redirectURI only. With claimsInIDToken the email and name are in the ID
// token, as most providers send them; without, only in its userinfo answer.
func Start(t testing.TB, addr, redirectURI string, claimsInIDToken bool, accounts ...Account) string {
	t.Helper()
	issuer := "http://" + addr
	users := accountStore{}
	for _, a := range accounts {
		users[a.Username] = &storage.User{ID: a.Username, Username: a.Username, Password: Password, Email: a.Email,
			EmailVerified: a.EmailVerified, FirstName: a.FirstName, LastName: a.LastName}
	}
	st := storage.NewStorageWithClients(users, map[string]*storage.Client{
		ClientID: storage.WebClient(ClientID, ClientSecret, redirectURI),
	})
	var provStorage exampleop.Storage = st
	if claimsInIDToken {
		provStorage = claimsInToken{st}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(exampleop.SetupServer(issuer, provStorage, nil, false))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// accountStore is the provider's user directory, by username.
type accountStore map[string]*storage.User

func (s accountStore) GetUserByID(id string) *storage.User         { return s[id] }
func (s accountStore) GetUserByUsername(name string) *storage.User { return s[name] }
func (accountStore) ExampleClientID() string                       { return "service" }

// claimsInToken makes the provider assert the email and profile claims in
// the ID token.
type claimsInToken struct{ *storage.Storage }

func (s claimsInToken) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return assertingClient{c}, nil
}

type assertingClient struct{ op.Client }

func (assertingClient) IDTokenUserinfoClaimsAssertion() bool { return true }
