package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
)

var _ breach.UserStore = (*Store)(nil)

// Redis keys of the console's users. Persisted contracts: never rename one.
const (
	// keyUserFmt holds one user: JSON of breach.User, sealed when a key is configured (the display
	// name is personal; the bcrypt hash is best kept from anyone who can read a dump).
	keyUserFmt = "breachd:user:{%s}"
	// keyUsers is a sorted set of every username, all with score 0, so that they sort by name.
	keyUsers = "breachd:users"
)

func userKey(name string) string { return fmt.Sprintf(keyUserFmt, name) }

// maxUserUpdateAttempts bounds the retries of UpdateUser when another writer changes the user.
const maxUserUpdateAttempts = 10

// CreateUser stores a new user; ECONFLICT when the username is taken, EINVALID for a bad name or role.
func (s *Store) CreateUser(ctx context.Context, u breach.User) error {
	if err := breach.ValidUsername(u.Username); err != nil {
		return err
	}
	if err := breach.ValidRole(u.Role); err != nil {
		return err
	}
	now := s.now().UTC()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.UpdatedAt = now
	data, err := s.encodeUser(u)
	if err != nil {
		return err
	}
	ok, err := s.rdb.SetNX(ctx, userKey(u.Username), data, 0).Result()
	if err != nil {
		return storeErr("create user", err)
	}
	if !ok {
		return breach.Errorf(breach.ECONFLICT, "the username %s is taken", u.Username)
	}
	if err := s.rdb.ZAdd(ctx, keyUsers, redis.Z{Member: u.Username}).Err(); err != nil {
		return storeErr("index user", err)
	}
	return nil
}

// User returns one user; ENOTFOUND when there is none.
func (s *Store) User(ctx context.Context, username string) (breach.User, error) {
	if breach.ValidUsername(username) != nil {
		return breach.User{}, breach.Errorf(breach.ENOTFOUND, "no such user")
	}
	data, err := s.rdb.Get(ctx, userKey(username)).Bytes()
	if errors.Is(err, redis.Nil) {
		return breach.User{}, breach.Errorf(breach.ENOTFOUND, "no such user")
	}
	if err != nil {
		return breach.User{}, storeErr("read user", err)
	}
	return s.decodeUser(username, data)
}

// Users returns every user, by username.
func (s *Store) Users(ctx context.Context) ([]breach.User, error) {
	names, err := s.rdb.ZRange(ctx, keyUsers, 0, -1).Result()
	if err != nil {
		return nil, storeErr("list users", err)
	}
	users := make([]breach.User, 0, len(names))
	for _, n := range names {
		u, err := s.User(ctx, n)
		if breach.ErrorCode(err) == breach.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// UpdateUser applies fn to the stored user under WATCH, so two admins changing one user never
// lose a change. The username cannot change.
func (s *Store) UpdateUser(ctx context.Context, username string, fn func(*breach.User) error) (breach.User, error) {
	if breach.ValidUsername(username) != nil {
		return breach.User{}, breach.Errorf(breach.ENOTFOUND, "no such user")
	}
	key := userKey(username)
	var out breach.User
	for range maxUserUpdateAttempts {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			data, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				return breach.Errorf(breach.ENOTFOUND, "no such user")
			}
			if err != nil {
				return err
			}
			u, err := s.decodeUser(username, data)
			if err != nil {
				return err
			}
			if err := fn(&u); err != nil {
				return err
			}
			u.Username = username
			if err := breach.ValidRole(u.Role); err != nil {
				return err
			}
			u.UpdatedAt = s.now().UTC()
			enc, err := s.encodeUser(u)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, enc, 0)
				return nil
			})
			out = u
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return breach.User{}, storeErr("update user", err)
		}
		return out, nil
	}
	return breach.User{}, breach.Errorf(breach.ECONFLICT, "the user keeps changing; try again")
}

func (s *Store) encodeUser(u breach.User) ([]byte, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("encode user: %w", err)
	}
	return s.seal([]byte(userKey(u.Username)), b), nil
}

func (s *Store) decodeUser(name string, data []byte) (breach.User, error) {
	plain, err := s.open([]byte(userKey(name)), data)
	if err != nil {
		return breach.User{}, err
	}
	var u breach.User
	if err := json.Unmarshal(plain, &u); err != nil {
		return breach.User{}, fmt.Errorf("decode user: %w", err)
	}
	return u, nil
}
