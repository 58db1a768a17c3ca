package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	breach "github.com/breachd/breachd"
)

// Keys holds the API keys the service accepts, each with one role. Only SHA-256 hashes are kept,
// so a memory dump or a log line never shows a usable key.
type Keys struct {
	entries []keyEntry
}

type keyEntry struct {
	hash [sha256.Size]byte
	role breach.Role
}

// MinKeyLength is the shortest API key accepted: shorter keys are guessable.
const MinKeyLength = 16

// ParseKeys reads "role:key,role:key,…" (BREACHD_API_KEYS). A key may also be given already hashed
// as "role:sha256:<64 hex digits>", so a key file need not hold usable keys.
func ParseKeys(spec string) (*Keys, error) {
	k := &Keys{}
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if err := k.add(item); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
	}
	return k, nil
}

// ReadKeys reads one "role:key" or "role:sha256:<hex>" per line (BREACHD_API_KEYS_FILE); blank lines
// and lines starting with # are ignored.
func ReadKeys(r io.Reader) (*Keys, error) {
	k := &Keys{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := k.add(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	return k, nil
}

// Add accepts one more key with a role.
func (k *Keys) Add(role breach.Role, key string) error {
	return k.add(string(role) + ":" + key)
}

func (k *Keys) add(item string) error {
	roleName, secret, ok := strings.Cut(item, ":")
	role := breach.Role(strings.TrimSpace(roleName))
	if !ok || !slices.Contains(breach.Roles, role) {
		return fmt.Errorf("want role:key with role one of admin, clerk, auditor")
	}
	e := keyEntry{role: role}
	if hexHash, ok := strings.CutPrefix(secret, "sha256:"); ok {
		b, err := hex.DecodeString(hexHash)
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("a hashed key is sha256: followed by 64 hex digits")
		}
		copy(e.hash[:], b)
	} else {
		if len(secret) < MinKeyLength {
			return fmt.Errorf("a key must be at least %d characters", MinKeyLength)
		}
		e.hash = sha256.Sum256([]byte(secret))
	}
	for _, other := range k.entries {
		if other.hash == e.hash {
			return fmt.Errorf("the same key is listed twice")
		}
	}
	k.entries = append(k.entries, e)
	return nil
}

// Len returns how many keys are configured.
func (k *Keys) Len() int { return len(k.entries) }

// Authenticate returns the actor a key belongs to. The comparison is constant-time over every
// configured key, so timing does not tell how close a guess was or which key matched.
func (k *Keys) Authenticate(key string) (breach.Actor, bool) {
	h := sha256.Sum256([]byte(key))
	var found keyEntry
	match := 0
	for _, e := range k.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			found, match = e, 1
		}
	}
	if match == 0 {
		return breach.Actor{}, false
	}
	return breach.Actor{ID: Fingerprint(found.role, found.hash), Role: found.role}, true
}

// Fingerprint names a key in the audit trail without revealing it: the role and the first 8 hex
// digits of the key's SHA-256.
func Fingerprint(role breach.Role, hash [sha256.Size]byte) string {
	return string(role) + "-" + hex.EncodeToString(hash[:4])
}

type actorKey struct{}

// inProcessActorKey marks an actor put in a request's context by code in the same process (the
// console), never read from the request itself: a remote client cannot set a context value.
type inProcessActorKey struct{}

// WithActor returns a context whose requests, served in-process through the handler New returns,
// act as a: guard takes a instead of an API key and still checks the operation's x-roles. It is how
// the console acts for a person who signed in, with the API's validation, roles and messages.
func WithActor(ctx context.Context, a breach.Actor) context.Context {
	return context.WithValue(ctx, inProcessActorKey{}, a)
}

func inProcessActor(ctx context.Context) (breach.Actor, bool) {
	a, ok := ctx.Value(inProcessActorKey{}).(breach.Actor)
	return a, ok && a.ID != ""
}

func withActor(ctx context.Context, a breach.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// actorFrom returns the caller the auth middleware put in the context.
func actorFrom(ctx context.Context) breach.Actor {
	a, _ := ctx.Value(actorKey{}).(breach.Actor)
	return a
}
