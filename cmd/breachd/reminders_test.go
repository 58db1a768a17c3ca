package main

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
)

func TestReminderConfig(t *testing.T) {
	real := func(env map[string]string) map[string]string {
		env["REDIS_URL"], env["BREACHD_API_KEYS"] = "redis://db:6379", "admin:"+adminKey
		return school(env)
	}
	cases := []struct {
		name     string
		env      map[string]string
		to       []string
		interval time.Duration
		wantErr  string
	}{
		{"unset: no reminders", real(map[string]string{}), nil, time.Hour, ""},
		{"embedded with the outbox: the demo address", map[string]string{}, []string{demoReminderTo}, time.Hour, ""},
		{"embedded with SMTP: none unless asked", map[string]string{"BREACHD_SMTP_HOST": "mail.example.org"}, nil, time.Hour, ""},
		{"two addresses, spaces trimmed", real(map[string]string{"BREACHD_REMINDER_TO": " it@pikecreek.example.org, superintendent@pikecreek.example.org ",
			"BREACHD_REMINDER_INTERVAL": "30m"}), []string{"it@pikecreek.example.org", "superintendent@pikecreek.example.org"}, 30 * time.Minute, ""},
		{"a display name is refused", real(map[string]string{"BREACHD_REMINDER_TO": "IT Desk <it@pikecreek.example.org>"}), nil, 0, "BREACHD_REMINDER_TO"},
		{"an empty entry is refused", real(map[string]string{"BREACHD_REMINDER_TO": "it@pikecreek.example.org,,"}), nil, 0, "BREACHD_REMINDER_TO"},
		{"not a duration", real(map[string]string{"BREACHD_REMINDER_INTERVAL": "hourly"}), nil, 0, "BREACHD_REMINDER_INTERVAL"},
		{"too short", real(map[string]string{"BREACHD_REMINDER_INTERVAL": "500ms"}), nil, 0, "BREACHD_REMINDER_INTERVAL"},
		{"negative", real(map[string]string{"BREACHD_REMINDER_INTERVAL": "-1h"}), nil, 0, "BREACHD_REMINDER_INTERVAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.ReminderTo, c.to) || cfg.ReminderInterval != c.interval {
				t.Fatalf("reminders to %q every %s, want %q every %s", cfg.ReminderTo, cfg.ReminderInterval, c.to, c.interval)
			}
			if s := cfg.String(); strings.Contains(s, "@") {
				t.Errorf("the logged configuration names an address: %s", s)
			}
		})
	}
}

// TestReminderWiring: a worker process with BREACHD_REMINDER_TO sweeps at start and reminds the
// administrators of an overdue duty (in the outbox here); without it, it says so once.
func TestReminderWiring(t *testing.T) {
	rdb := redistest.New(t)
	o := rdb.Options()
	key := strings.Repeat("cd", 32)
	store := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{0xcd}, jobs.KeySize)))
	b := &breach.Breach{ID: "br_01JQ7R5V8X2N4M6P8R0T2V4X6Z", Status: breach.StatusOpen, DeterminationVersion: 1, Holds: []breach.Hold{},
		Determination: breach.Determination{Jurisdiction: "IN", Title: "Stolen laptop", DiscoveredOn: breach.MustDate("2026-03-02"),
			DataElements: []breach.DataElement{breach.ElementSSN, breach.ElementName}, RiskOfHarm: breach.RiskLikely,
			AffectedCount: 3, ContactInfoSufficient: true, Category: breach.CategoryData},
		CreatedAt: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), CreatedBy: "key-admin-1"}
	if err := store.CreateBreach(context.Background(), b, breach.Event{Type: breach.EventBreachCreated, Actor: "key-admin-1",
		Role: breach.RoleAdmin, At: b.CreatedAt, Summary: "created"}); err != nil {
		t.Fatal(err)
	}
	env := func(extra map[string]string) map[string]string {
		env := school(map[string]string{"REDIS_URL": fmt.Sprintf("redis://%s/%d", o.Addr, o.DB), "BREACHD_API_KEYS": "admin:" + adminKey,
			"BREACHD_ENCRYPTION_KEY": key, "BREACHD_MODE": "worker"})
		for k, v := range extra {
			env[k] = v
		}
		return env
	}

	s := start(t, env(nil))
	s.stop()
	if !strings.Contains(s.stdout.String(), "BREACHD_REMINDER_TO is not set") {
		t.Errorf("the log does not say reminders are off:\n%s", s.stdout.String())
	}

	outbox := t.TempDir()
	s = start(t, env(map[string]string{"BREACHD_OUTBOX_DIR": outbox, "BREACHD_REMINDER_TO": "it@pikecreek.example.org"}))
	var emls []string
	deadline := time.Now().Add(10 * time.Second)
	for len(emls) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		emls, _ = filepath.Glob(filepath.Join(outbox, "reminder."+b.ID+".*.eml"))
	}
	s.stop()
	if len(emls) != 1 {
		t.Fatalf("%d reminders in the outbox, want 1", len(emls))
	}
	raw, err := os.ReadFile(emls[0])
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if to, subject := msg.Header.Get("To"), msg.Header.Get("Subject"); to != "<it@pikecreek.example.org>" ||
		subject != "[breachd] 5 duties overdue: Stolen laptop ("+b.ID+")" {
		t.Errorf("To %q, Subject %q", to, subject)
	}
	if !bytes.Contains(raw, []byte("1. Report to the Indiana Office of Technology")) {
		t.Errorf("the reminder does not list the report first:\n%s", raw)
	}
	evs, _, err := store.Events(context.Background(), b.ID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == breach.EventObligationReminder {
			n++
		}
	}
	if n == 0 {
		t.Error("no obligation.reminder event recorded")
	}
	if logs := s.stdout.String(); strings.Contains(logs, "it@pikecreek.example.org") {
		t.Errorf("the logs name the administrator:\n%s", logs)
	}
}
