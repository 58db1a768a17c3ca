package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// inProcess serves a request through the handler in the same process, as the console does, with
// the actor in the request's context and no API key.
func (e *env) inProcess(ctx context.Context, method, path string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// TestInProcessActor: the console's path into the API. A person's actor in the context takes the
// place of a key, the contract's x-roles still decide, and the audit trail names the person.
func TestInProcessActor(t *testing.T) {
	e := newEnv(t)
	dana := api.WithActor(context.Background(), breach.Actor{ID: "user:dana", Role: breach.RoleAdmin})
	sam := api.WithActor(context.Background(), breach.Actor{ID: "user:sam", Role: breach.RoleClerk})
	body := map[string]any{"determination": determination(nil)}

	rec := e.inProcess(dana, "POST", "/v1/breaches", body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("admin in process: create = %d %s", rec.Code, rec.Body)
	}
	var v api.BreachView
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.CreatedBy != "user:dana" {
		t.Errorf("created_by = %q, want user:dana", v.CreatedBy)
	}
	events, _, err := e.store.Events(context.Background(), v.ID, "", 10)
	if err != nil || len(events) == 0 {
		t.Fatalf("events: %v %v", events, err)
	}
	if events[0].Actor != "user:dana" || events[0].Role != breach.RoleAdmin {
		t.Errorf("first event by %s (%s), want user:dana (admin)", events[0].Actor, events[0].Role)
	}

	// Roles are still enforced: a clerk may read but not create.
	if rec := e.inProcess(sam, "POST", "/v1/breaches", body); rec.Code != http.StatusForbidden {
		t.Errorf("clerk in process: create = %d, want 403", rec.Code)
	}
	if rec := e.inProcess(sam, "GET", "/v1/breaches/"+v.ID, nil); rec.Code != http.StatusOK {
		t.Errorf("clerk in process: read = %d, want 200", rec.Code)
	}
	// An actor without a role, or without an ID, is no one.
	nobody := api.WithActor(context.Background(), breach.Actor{ID: "user:x"})
	if rec := e.inProcess(nobody, "GET", "/v1/breaches", nil); rec.Code != http.StatusForbidden {
		t.Errorf("actor without role = %d, want 403", rec.Code)
	}
	anonymous := api.WithActor(context.Background(), breach.Actor{Role: breach.RoleAdmin})
	if rec := e.inProcess(anonymous, "GET", "/v1/breaches", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("actor without ID = %d, want 401 (falls back to the key)", rec.Code)
	}
	// In process without an actor: a key is needed, as for anyone.
	if rec := e.inProcess(context.Background(), "GET", "/v1/breaches", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("in process without actor = %d, want 401", rec.Code)
	}
}

// TestRemoteCannotActAsAPerson: over the network there is no way to reach the in-process path;
// whatever a client sends, without a key it is refused.
func TestRemoteCannotActAsAPerson(t *testing.T) {
	e := newEnv(t)
	for _, h := range []http.Header{
		{},
		{"Cookie": {"breachd_session=anything"}},
		{"X-Actor": {"user:dana"}, "X-Role": {"admin"}},
		{"Authorization": {"Bearer user:dana"}},
	} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/breaches", nil)
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("remote with %v = %d, want 401", h, res.StatusCode)
		}
	}
}
