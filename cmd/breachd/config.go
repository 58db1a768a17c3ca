package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/breachd/breachd/api"
	"github.com/breachd/breachd/jobs"
)

// config is everything breachd reads from its environment. Each field names its variable and
// default; the README's configuration table lists the same.
type config struct {
	RedisURL        string        // REDIS_URL; default "" = embedded in-memory Redis (nothing persists)
	Addr            string        // BREACHD_ADDR; default ":8080"
	Keys            *api.Keys     // BREACHD_API_KEYS ("role:key,…") or BREACHD_API_KEYS_FILE; required with REDIS_URL
	EncryptionKey   []byte        // BREACHD_ENCRYPTION_KEY; 32 bytes, hex or base64; default none (random in embedded mode)
	MaxUploadBytes  int64         // BREACHD_MAX_UPLOAD_BYTES; default api.DefaultMaxUploadBytes (1 GiB)
	LogFormat       string        // BREACHD_LOG_FORMAT; "json" (default) or "text"
	LogLevel        slog.Level    // BREACHD_LOG_LEVEL; debug, info (default), warn, error
	ShutdownTimeout time.Duration // BREACHD_SHUTDOWN_TIMEOUT; default 15s
}

// loadConfig reads and checks the environment; every error names the variable.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		RedisURL:        strings.TrimSpace(getenv("REDIS_URL")),
		Addr:            ":8080",
		LogFormat:       "json",
		ShutdownTimeout: 15 * time.Second,
		MaxUploadBytes:  api.DefaultMaxUploadBytes,
	}
	var errs []error
	if v := getenv("BREACHD_ADDR"); v != "" {
		c.Addr = v
	}
	keysSpec, keysFile := getenv("BREACHD_API_KEYS"), getenv("BREACHD_API_KEYS_FILE")
	switch {
	case keysSpec != "" && keysFile != "":
		errs = append(errs, errors.New("set BREACHD_API_KEYS or BREACHD_API_KEYS_FILE, not both"))
	case keysFile != "":
		f, err := os.Open(keysFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_API_KEYS_FILE: %w", err))
			break
		}
		c.Keys, err = api.ReadKeys(f)
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_API_KEYS_FILE %s: %w", keysFile, err))
		}
	default:
		var err error
		if c.Keys, err = api.ParseKeys(keysSpec); err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_API_KEYS: %w", err))
		}
	}
	if c.Keys == nil {
		c.Keys = &api.Keys{}
	}
	if c.RedisURL != "" && c.Keys.Len() == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("BREACHD_API_KEYS or BREACHD_API_KEYS_FILE is required when REDIS_URL is set "+
			"(format role:key,role:key with roles admin, clerk, auditor)"))
	}
	if v := getenv("BREACHD_ENCRYPTION_KEY"); v != "" {
		key, err := jobs.ParseEncryptionKey(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_ENCRYPTION_KEY: %w", err))
		}
		c.EncryptionKey = key
	}
	if v := getenv("BREACHD_MAX_UPLOAD_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("BREACHD_MAX_UPLOAD_BYTES: %q is not a number of bytes of at least 1024", v))
		}
		c.MaxUploadBytes = n
	}
	if v := getenv("BREACHD_LOG_FORMAT"); v != "" {
		if v != "json" && v != "text" {
			errs = append(errs, fmt.Errorf("BREACHD_LOG_FORMAT: %q is not json or text", v))
		}
		c.LogFormat = v
	}
	if v := getenv("BREACHD_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("BREACHD_LOG_LEVEL: %q is not debug, info, warn or error", v))
		}
	}
	if v := getenv("BREACHD_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("BREACHD_SHUTDOWN_TIMEOUT: %q is not a positive duration such as 15s", v))
		}
		c.ShutdownTimeout = d
	}
	return c, errors.Join(errs...)
}

// String describes the configuration for the start-up log, with secrets masked.
func (c config) String() string {
	redis := "embedded (in-memory, nothing persists)"
	if c.RedisURL != "" {
		redis = maskURL(c.RedisURL)
	}
	enc := "off"
	if c.EncryptionKey != nil {
		enc = "on"
	}
	return fmt.Sprintf("redis=%s addr=%s api_keys=%d encryption=%s max_upload_bytes=%d log=%s/%s shutdown_timeout=%s",
		redis, c.Addr, c.Keys.Len(), enc, c.MaxUploadBytes, c.LogFormat, c.LogLevel, c.ShutdownTimeout)
}

// maskURL hides a password in a Redis URL.
func maskURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(unparsable)"
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "****@" + rest[at+1:]
	}
	return scheme + "://" + rest
}
