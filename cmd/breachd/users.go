package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/web"
)

// userCommand runs "breachd user add|disable|enable|passwd …" against the Redis of REDIS_URL
// (sealed with BREACHD_ENCRYPTION_KEY when set, as the service does). The password comes from
// stdin: prompted twice without echo on a terminal, else the first line.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	const help = `Usage:
  breachd user add NAME --role admin|clerk|auditor [--name "Display Name"]
  breachd user passwd NAME
  breachd user disable NAME
  breachd user enable NAME
The password is read from stdin (prompted on a terminal); at least 12 characters.
REDIS_URL names the Redis server; BREACHD_ENCRYPTION_KEY must be the service's, when it has one.
`
	if len(args) < 2 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, help)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	verb, name := args[0], strings.ToLower(args[1])
	fs := flag.NewFlagSet("breachd user "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "admin, clerk or auditor")
	display := fs.String("name", "", "the person's name as colleagues know it")
	if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
		fmt.Fprint(stderr, help)
		return 2
	}
	redisURL := strings.TrimSpace(getenv("REDIS_URL"))
	if redisURL == "" {
		fmt.Fprintln(stderr, "breachd user: REDIS_URL is required (an embedded service keeps its users in memory; it prints a one-time admin password instead)")
		return 2
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		fmt.Fprintln(stderr, "breachd user: REDIS_URL:", err)
		return 2
	}
	var storeOpts []jobs.Option
	if v := getenv("BREACHD_ENCRYPTION_KEY"); v != "" {
		key, err := jobs.ParseEncryptionKey(v)
		if err != nil {
			fmt.Fprintln(stderr, "breachd user: BREACHD_ENCRYPTION_KEY:", err)
			return 2
		}
		storeOpts = append(storeOpts, jobs.WithEncryptionKey(key))
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	store := jobs.NewStore(rdb, storeOpts...)

	fail := func(err error) int {
		fmt.Fprintln(stderr, "breachd user "+verb+":", userMessage(err))
		return 1
	}
	switch verb {
	case "add":
		if err := breach.ValidRole(breach.Role(*role)); err != nil {
			return fail(err)
		}
		if err := breach.ValidUsername(name); err != nil {
			return fail(err)
		}
		if *display == "" {
			*display = name
		}
		hash, err := passwordHash(stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if err := store.CreateUser(ctx, breach.User{Username: name, DisplayName: *display, Role: breach.Role(*role), PasswordHash: hash}); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", name, *role)
	case "passwd":
		hash, err := passwordHash(stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if _, err := store.UpdateUser(ctx, name, func(u *breach.User) error {
			u.PasswordHash, u.MustChangePassword = hash, false
			return nil
		}); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "password of %s changed\n", name)
	case "disable", "enable":
		if _, err := store.UpdateUser(ctx, name, func(u *breach.User) error {
			u.Disabled = verb == "disable"
			return nil
		}); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s %sd\n", name, verb)
	default:
		fmt.Fprint(stderr, help)
		return 2
	}
	return 0
}

// userMessage is the part of an error a person at the terminal needs.
func userMessage(err error) string {
	var be *breach.Error
	if errors.As(err, &be) {
		return be.Message
	}
	return err.Error()
}

// passwordHash reads a password (readPassword) and returns the hash the console stores.
func passwordHash(r io.Reader, prompt io.Writer) (string, error) {
	pw, err := readPassword(r, prompt)
	if err != nil {
		return "", err
	}
	return web.HashPassword(pw, web.DefaultBcryptCost)
}

// readPassword reads a password: twice without echo from a terminal, else one line from r.
func readPassword(r io.Reader, prompt io.Writer) (string, error) {
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password (at least 12 characters): ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords are not the same")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
