package jobs_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
)

// dispatchAsOf is the date the fixture is dispatched on: Aiden Miller (born 2008-03-15) is 18.
var dispatchAsOf = breach.MustDate("2026-04-01")

// fixtureRecipients are the rows of /work/shared/fixtures/recipients-sample.csv that an upload
// keeps (the invalid email, the 29 February 1990, the state ZZ and the repeated S-1003 are
// rejected there): ten people.
func fixtureRecipients(breachID string) []breach.Recipient {
	d := breach.MustDate
	minh := breach.Guardian{Name: "Nguyễn Văn Minh", Email: "minh.nguyen@example.org", Phone: "+13175550111"}
	keystone := breach.PostalAddress{Line1: "4120 N Keystone Ave", Line2: "Apt 3B", City: "Indianapolis", State: "IN", PostalCode: "46205"}
	rs := []breach.Recipient{
		{ExternalID: "S-1001", FirstName: "Hồng", LastName: "Nguyễn Thị", Address: keystone, PreferredChannel: breach.PreferMail,
			Language: "vi", DateOfBirth: d("2012-04-09"), Guardian: minh},
		{ExternalID: "S-1002", FirstName: "Lan", LastName: "Nguyễn Thị", Address: keystone, PreferredChannel: breach.PreferMail,
			Language: "vi", DateOfBirth: d("2014-09-30"), Guardian: minh},
		{ExternalID: "S-1003", FirstName: "José", LastName: "Núñez-Peña",
			Address:          breach.PostalAddress{Line1: "77 Calle Real Dr", City: "Kokomo", State: "IN", PostalCode: "46901"},
			PreferredChannel: breach.PreferEmail, EmailCurrent: true, Language: "es", DateOfBirth: d("2011-01-15"),
			Guardian: breach.Guardian{Name: "María Peña", Email: "maria.pena@example.org", Phone: "+17655550123"}},
		{ExternalID: "E-2001", FirstName: "Łukasz", LastName: "Żółć",
			Address: breach.PostalAddress{Line1: "15 W Washington St", City: "South Bend", State: "IN", PostalCode: "46601"},
			Email:   "lukasz.zolc@example.org", Phone: "+15745550177", PreferredChannel: breach.PreferEmail, EmailCurrent: true,
			Language: "en", DateOfBirth: d("1980-06-02")},
		{ExternalID: "E-2002", FirstName: "Zoë", LastName: "O'Brien-Ångström",
			Address: breach.PostalAddress{Line1: "9 Lakeview Ct", City: "Chicago", State: "IL", PostalCode: "60614"},
			Email:   "zoe@example.org", Phone: "+13125550190", PreferredChannel: breach.PreferPhone, Language: "en",
			DateOfBirth: d("1975-11-20")},
		{ExternalID: "E-2003", FirstName: "Đặng Văn", LastName: "Lâm",
			Address: breach.PostalAddress{Line1: "301 E Main St", City: "Richmond", State: "IN", PostalCode: "47374"},
			Phone:   "+17655550142", PreferredChannel: breach.PreferPhone, Language: "en", DateOfBirth: d("1969-03-08")},
		{ExternalID: "S-1004", FirstName: "Aiden", LastName: "Miller",
			Address:          breach.PostalAddress{Line1: "820 S Walnut St", City: "Bloomington", State: "IN", PostalCode: "47401"},
			PreferredChannel: breach.PreferMail, Language: "en", DateOfBirth: d("2008-03-15")},
		{ExternalID: "S-1005", FirstName: "Emma", LastName: "Johnson", PreferredChannel: breach.PreferMail, Language: "en",
			DateOfBirth: d("2013-05-05")},
		{ExternalID: "S-1006", FirstName: "Sofia", LastName: "García",
			Address:          breach.PostalAddress{Line1: "18 Oak Ln", City: "Fort Wayne", State: "IN", PostalCode: "46802"},
			PreferredChannel: breach.PreferMail, Language: "es", MinorFlag: boolPtr(true),
			Guardian: breach.Guardian{Name: "Luis García", Phone: "+12605550155"}},
		{ExternalID: "E-2006", FirstName: `=HYPERLINK("http://x")`, LastName: "Smith",
			Address: breach.PostalAddress{Line1: "4 Pine St", City: "Muncie", State: "IN", PostalCode: "47305"},
			Email:   "smith@example.org", PreferredChannel: breach.PreferMail, Language: "en", DateOfBirth: d("1970-01-01")},
	}
	for i := range rs {
		rs[i].ID, rs[i].Row, rs[i].BreachID = recipientID(i), i+1, breachID
	}
	return rs
}

// dispatchEnv is a store with the fixture breach and its people, a queue and a dispatcher.
type dispatchEnv struct {
	rdb   *redis.Client
	store *jobs.Store
	queue *jobs.Queue
	disp  *jobs.Dispatcher
	b     *breach.Breach
	rs    []breach.Recipient
}

func newDispatchEnv(t testing.TB, twilio bool) *dispatchEnv {
	t.Helper()
	s, rdb, b := ntStore(t)
	rs := fixtureRecipients(b.ID)
	if _, err := s.AddRecipients(context.Background(), b.ID, rs); err != nil {
		t.Fatal(err)
	}
	q := jobs.NewQueue(rdb)
	return &dispatchEnv{rdb: rdb, store: s, queue: q, b: b, rs: rs,
		disp: jobs.NewDispatcher(jobs.DispatcherConfig{Store: s, Queue: q, TwilioCalls: twilio,
			Clock: func() time.Time { return t0 }})}
}

func (e *dispatchEnv) notices(t testing.TB, f breach.NoticeFilter) []breach.Notice {
	t.Helper()
	var out []breach.Notice
	f.Limit = jobs.MaxLimit
	for {
		page, next, err := e.store.Notices(context.Background(), e.b.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		f.Cursor = next
	}
}

func TestDispatchFixture(t *testing.T) {
	e := newDispatchEnv(t, false)
	ctx := context.Background()
	rep, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "report", rep, jobs.DispatchReport{Recipients: 10,
		Created:    map[breach.Method]int{breach.MethodLetter: 4, breach.MethodEmail: 2, breach.MethodPhone: 2},
		Households: 2, Unreachable: 1, Tasks: 1})
	wantCounts(t, e.store, e.b.ID, map[string]int{"letter:queued": 4, "email:queued": 2, "phone:queued": 2})

	byName := map[string]breach.Notice{}
	for _, n := range e.notices(t, breach.NoticeFilter{}) {
		byName[n.AddresseeName] = n
	}
	// The Nguyễn siblings: one letter to their guardian naming both.
	minh := byName["Nguyễn Văn Minh"]
	if minh.Channel != breach.MethodLetter || !minh.ToGuardian ||
		!slices.Equal(minh.Children, []string{"Hồng Nguyễn Thị", "Lan Nguyễn Thị"}) ||
		!slices.Equal(minh.RecipientIDs, []string{e.rs[0].ID, e.rs[1].ID}) || minh.Address.Line2 != "Apt 3B" {
		t.Errorf("guardian letter %+v", minh)
	}
	want := map[string]breach.Method{
		"María Peña":                   breach.MethodEmail, // a minor who prefers email: to the guardian's address
		"Łukasz Żółć":                  breach.MethodEmail,
		"Zoë O'Brien-Ångström":         breach.MethodPhone,
		"Đặng Văn Lâm":                 breach.MethodPhone,
		"Aiden Miller":                 breach.MethodLetter, // 18 on the dispatch date: to him
		"Luis García":                  breach.MethodLetter,
		`=HYPERLINK("http://x") Smith`: breach.MethodLetter,
		"Nguyễn Văn Minh":              breach.MethodLetter,
	}
	if len(byName) != len(want) {
		t.Errorf("addressees %v", slices.Collect(func(yield func(string) bool) {
			for k := range byName {
				if !yield(k) {
					return
				}
			}
		}))
	}
	for name, c := range want {
		if n, ok := byName[name]; !ok || n.Channel != c {
			t.Errorf("%s: %+v, want a %s", name, n, c)
		}
	}
	if n := byName["María Peña"]; n.Email != "maria.pena@example.org" || !n.ToGuardian || !slices.Equal(n.Children, []string{"José Núñez-Peña"}) {
		t.Errorf("guardian email %+v", n)
	}
	if n := byName["Aiden Miller"]; n.ToGuardian || len(n.Children) != 0 {
		t.Errorf("adult student %+v", n)
	}

	// One email batch task with both emails, and the fold of the queued logs; phones are clerk
	// call tasks (no Twilio): not queued.
	tasks, err := inspectorTasks(e.rdb)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tasks)
	if !slices.Equal(tasks, []string{jobs.TypeEmailBatch, jobs.TypeFoldQueued}) {
		t.Fatalf("tasks %v", tasks)
	}

	// Again: nothing new, nothing queued twice.
	rep2, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor)
	if err != nil {
		t.Fatal(err)
	}
	equalJSON(t, "second report", rep2, jobs.DispatchReport{Recipients: 10,
		Created:  map[breach.Method]int{breach.MethodLetter: 0, breach.MethodEmail: 0, breach.MethodPhone: 0},
		Existing: 8, Households: 2, Unreachable: 1, Tasks: 0})
	wantCounts(t, e.store, e.b.ID, map[string]int{"letter:queued": 4, "email:queued": 2, "phone:queued": 2})
	if tasks, _ := inspectorTasks(e.rdb); len(tasks) != 2 {
		t.Fatalf("tasks after the second dispatch %v (the fold waiting is not queued twice)", tasks)
	}

	b, err := e.store.Breach(ctx, e.b.ID)
	if err != nil || b.Status != breach.StatusDispatched {
		t.Fatalf("breach %v, %v", b.Status, err)
	}
	var dispatched []breach.Event
	for _, ev := range allEvents(t, e.store, e.b.ID) {
		if ev.Type == breach.EventDispatched {
			dispatched = append(dispatched, ev)
		}
	}
	if len(dispatched) != 2 || dispatched[0].Data["created"] != float64(8) || dispatched[0].Data["unreachable"] != float64(1) ||
		dispatched[1].Data["created"] != float64(0) || dispatched[1].Data["existing"] != float64(8) {
		t.Fatalf("plan.dispatched events %+v", dispatched)
	}
}

func TestDispatchQueuesTwilioCalls(t *testing.T) {
	e := newDispatchEnv(t, true)
	if _, err := e.disp.Dispatch(context.Background(), e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	tasks, err := inspectorTasks(e.rdb)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tasks)
	if !slices.Equal(tasks, []string{jobs.TypeCallBatch, jobs.TypeEmailBatch, jobs.TypeFoldQueued}) {
		t.Fatalf("tasks %v", tasks)
	}
}

func TestDispatchRefusedWhileHeld(t *testing.T) {
	e := newDispatchEnv(t, false)
	ctx := context.Background()
	if _, err := e.store.UpdateBreach(ctx, e.b.ID, placeHold("hold-1")); err != nil {
		t.Fatal(err)
	}
	_, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor)
	wantCode(t, err, breach.ECONFLICT)
	wantCounts(t, e.store, e.b.ID, map[string]int{})
}

// inspectorTasks lists the types of the tasks pending or scheduled in the queue.
func inspectorTasks(rdb *redis.Client) ([]string, error) {
	ins := asynq.NewInspectorFromRedisClient(rdb)
	var out []string
	pending, err := ins.ListPendingTasks(jobs.QueueName)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, err
	}
	scheduled, err := ins.ListScheduledTasks(jobs.QueueName)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, err
	}
	for _, t := range append(pending, scheduled...) {
		out = append(out, t.Type)
	}
	return out, nil
}

// Dispatches of one breach started together: those that find it being dispatched are refused,
// and every notice exists once.
func TestDispatchConcurrentCreatesEachNoticeOnce(t *testing.T) {
	e := newDispatchEnv(t, false)
	ctx := context.Background()
	const n = 6
	errs := make(chan error, n)
	created := make(chan int, n)
	for range n {
		go func() {
			rep, err := e.disp.Dispatch(ctx, e.b, dispatchAsOf, ntActor)
			errs <- err
			created <- rep.Created[breach.MethodLetter] + rep.Created[breach.MethodEmail] + rep.Created[breach.MethodPhone]
		}()
	}
	total, ok := 0, 0
	for range n {
		if err := <-errs; err != nil {
			wantCode(t, err, breach.ECONFLICT)
		} else {
			ok++
		}
		total += <-created
	}
	if ok == 0 || total != 8 {
		t.Fatalf("%d dispatches succeeded creating %d notices; want at least one, and 8 in all", ok, total)
	}
	wantCounts(t, e.store, e.b.ID, map[string]int{"letter:queued": 4, "email:queued": 2, "phone:queued": 2})
	if got := len(e.notices(t, breach.NoticeFilter{})); got != 8 {
		t.Fatalf("%d notices listed, want 8", got)
	}
}
