package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// callPeople are two adults who prefer the phone: Ana speaks Spanish, Ben English.
const callPeople = `external_id,first_name,last_name,address_line1,city,state,postal_code,phone,preferred_channel,language,date_of_birth
P-1,Ana,Ruiz,12 Elm St,Carmel,IN,46032,(317) 555-0141,phone,es,1975-05-05
P-2,Ben,Cole,14 Elm St,Carmel,IN,46032,(317) 555-0142,phone,en,1978-07-07
`

// dispatchCalls creates a breach, uploads callPeople and dispatches: two clerk call tasks.
func dispatchCalls(t *testing.T, e *env) api.BreachView {
	t.Helper()
	b := createBreach(t, e, nil)
	if r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, callPeople, "text/csv"); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/breaches/"+b.ID+"/dispatch", breach.RoleAdmin, nil); r.Status != 200 {
		t.Fatalf("dispatch: %d %s", r.Status, r.Body)
	}
	return b
}

// callTasks lists the breach's call tasks by phone number.
func callTasks(t *testing.T, e *env, breachID string) map[string]api.CallTaskView {
	t.Helper()
	r := e.do("GET", "/v1/call-tasks?breach_id="+breachID, breach.RoleClerk, nil)
	if r.Status != 200 {
		t.Fatalf("call tasks: %d %s", r.Status, r.Body)
	}
	var list api.CallTaskList
	r.json(t, &list)
	out := map[string]api.CallTaskView{}
	for _, task := range list.Items {
		out[task.Phone] = task
	}
	return out
}

// TestCallTasksCarryTheScript: each call task carries the script in the person's language, parts A
// to E under the letter's headings, each saying what LAW.md §4 asks; the text is all of it.
func TestCallTasksCarryTheScript(t *testing.T) {
	e := newEnv(t)
	b := dispatchCalls(t, e)
	tasks := callTasks(t, e, b.ID)
	if len(tasks) != 2 {
		t.Fatalf("%d call tasks, want 2", len(tasks))
	}
	d := determination(nil)
	for phone, want := range map[string]struct {
		lang, greeting string
		titles         []string
		parts          []string // a sentence each part must hold, A to E
	}{
		"+13175550141": {"es", "Hola. Le llama Metropolitan School District of Pike Creek con un aviso importante para Ana Ruiz.",
			[]string{"Qué sucedió", "Qué información estuvo involucrada", "Qué estamos haciendo", "Para más información", "Qué puede hacer usted"},
			[]string{"Descubrimos el incidente el 3 de marzo de 2026.", "nombre, número de Seguro Social y número de cuenta financiera",
				spanishRemediation, "llame al 1, 3 1 7, 5 5 5, 0 1 0 0", "mantenerse alerta ante el fraude"}},
		"+13175550142": {"en", "Hello. This is Metropolitan School District of Pike Creek calling with an important notice for Ben Cole.",
			[]string{"What happened", "What information was involved", "What we are doing", "For more information", "What you can do"},
			[]string{d["description"].(string), "name, Social Security number, and financial account number",
				d["remediation"].(string), "please call 1, 3 1 7, 5 5 5, 0 1 0 0", "remain vigilant against fraud"}},
	} {
		task, ok := tasks[phone]
		if !ok {
			t.Fatalf("no call task for %s: %v", phone, tasks)
		}
		s := task.Script
		if s.Language != want.lang || !strings.HasPrefix(s.Greeting, want.greeting) || s.Closing == "" {
			t.Errorf("%s: script language %q, greeting %q, closing %q", phone, s.Language, s.Greeting, s.Closing)
		}
		if len(s.Parts) != 5 {
			t.Fatalf("%s: %d parts, want A to E", phone, len(s.Parts))
		}
		for i, p := range s.Parts {
			if p.Part != breach.NoticeParts[i] || p.Title != want.titles[i] || !strings.Contains(p.Text, want.parts[i]) {
				t.Errorf("%s: part %d is %+v; want %s %q holding %q", phone, i, p, breach.NoticeParts[i], want.titles[i], want.parts[i])
			}
			if !strings.Contains(s.Text, p.Text) {
				t.Errorf("%s: the text does not read part %s", phone, p.Part)
			}
		}
		if !strings.HasPrefix(s.Text, s.Greeting) || !strings.HasSuffix(s.Text, s.Closing+"\n") {
			t.Errorf("%s: the text is not greeting … closing:\n%s", phone, s.Text)
		}
		if task.Status != breach.NoticeQueued || task.Channel != breach.MethodPhone || task.History != nil {
			t.Errorf("%s: task notice %+v", phone, task.Notice)
		}
	}
}

// TestConversationConfirmsEveryPart: a clerk's conversation is recorded only with all five parts
// said; the parts are in the call.attempt event and the notice's history.
func TestConversationConfirmsEveryPart(t *testing.T) {
	e := newEnv(t)
	b := dispatchCalls(t, e)
	ana := callTasks(t, e, b.ID)["+13175550141"]
	path := "/v1/call-tasks/" + ana.ID + "/attempts"
	for _, tc := range []struct {
		name   string
		body   map[string]any
		field  string
		reason string
	}{
		{"a conversation without parts", map[string]any{"outcome": "conversation"}, "parts_delivered", "A, B, C, D, E"},
		{"an empty list", map[string]any{"outcome": "conversation", "parts_delivered": []string{}}, "parts_delivered", "A, B, C, D, E"},
		{"three parts", map[string]any{"outcome": "conversation", "parts_delivered": []string{"A", "C", "B"}}, "parts_delivered", "lacks D, E"},
		{"a part twice", map[string]any{"outcome": "conversation", "parts_delivered": []string{"A", "B", "C", "D", "A"}}, "parts_delivered", "A twice"},
		{"an unknown part", map[string]any{"outcome": "conversation", "parts_delivered": []string{"A", "B", "C", "D", "F"}}, "parts_delivered[4]", "must be one of: A, B, C, D, E"},
		{"six parts", map[string]any{"outcome": "conversation", "parts_delivered": []string{"A", "B", "C", "D", "E", "E"}}, "parts_delivered", "maximum number of items is 5"},
		{"parts with a voicemail", map[string]any{"outcome": "voicemail", "parts_delivered": []string{"A", "B", "C", "D", "E"}}, "parts_delivered", "only for a conversation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", path, breach.RoleClerk, tc.body)
			if r.Status != 422 {
				t.Fatalf("%d %s, want 422", r.Status, r.Body)
			}
			fields := r.fields(t)
			if reason, ok := fields[tc.field]; !ok || !strings.Contains(reason, tc.reason) {
				t.Errorf("fields %v, want %s saying %q", fields, tc.field, tc.reason)
			}
		})
	}
	var detail api.NoticeDetail
	e.do("GET", "/v1/notices/"+ana.ID, breach.RoleAuditor, nil).json(t, &detail)
	if detail.Notice.Attempts != 0 || len(detail.History) != 1 {
		t.Fatalf("a refused attempt was recorded: %+v", detail)
	}

	r := e.do("POST", path, breach.RoleClerk, map[string]any{"outcome": "conversation", "parts_delivered": []string{"D", "E", "A", "C", "B"}})
	if r.Status != 200 {
		t.Fatalf("conversation with every part: %d %s", r.Status, r.Body)
	}
	var n breach.Notice
	r.json(t, &n)
	if n.Status != breach.NoticeDelivered {
		t.Fatalf("after the conversation: %+v", n)
	}
	e.do("GET", "/v1/notices/"+ana.ID, breach.RoleAuditor, nil).json(t, &detail)
	i := slices.IndexFunc(detail.History, func(ev breach.Event) bool { return ev.Type == breach.EventCallAttempt })
	if i < 0 || fmt.Sprint(detail.History[i].Data["parts_delivered"]) != "[A B C D E]" || detail.History[i].Role != breach.RoleClerk {
		t.Fatalf("the history does not record the parts said: %+v", detail.History)
	}
	var events api.EventList
	e.do("GET", "/v1/breaches/"+b.ID+"/events?limit=200", breach.RoleAuditor, nil).json(t, &events)
	found := false
	for _, ev := range events.Items {
		found = found || ev.Type == breach.EventCallAttempt && ev.Data["notice_id"] == ana.ID &&
			fmt.Sprint(ev.Data["parts_delivered"]) == "[A B C D E]"
	}
	if !found {
		t.Error("the breach's events do not record the parts said")
	}
	// A voicemail needs no parts; a delivered call leaves the list.
	ben := callTasks(t, e, b.ID)["+13175550142"]
	if r := e.do("POST", "/v1/call-tasks/"+ben.ID+"/attempts", breach.RoleClerk, map[string]any{"outcome": "voicemail"}); r.Status != 200 {
		t.Fatalf("voicemail: %d %s", r.Status, r.Body)
	}
	if tasks := callTasks(t, e, b.ID); len(tasks) != 1 || tasks["+13175550142"].ID != ben.ID {
		t.Errorf("call tasks after a conversation and a voicemail: %v", tasks)
	}
}

// TestCallTasksScriptCannotBeWritten: a determination revised after dispatch to a description too
// long to read in one call leaves the clerk without a script: a 409 naming the field, never a
// task without its script.
func TestCallTasksScriptCannotBeWritten(t *testing.T) {
	e := newEnv(t)
	b := dispatchCalls(t, e)
	long := strings.Repeat("A sentence that is much too long to be read on a call. ", 40)
	if r := e.do("PUT", "/v1/breaches/"+b.ID+"/determination", breach.RoleAdmin, determination(map[string]any{"description": long})); r.Status != 200 {
		t.Fatalf("revise: %d %s", r.Status, r.Body)
	}
	r := e.do("GET", "/v1/call-tasks?breach_id="+b.ID, breach.RoleClerk, nil)
	if r.Status != 409 || !strings.Contains(r.problem(t).Detail, "content.description") {
		t.Fatalf("call tasks with a script too long: %d %s", r.Status, r.Body)
	}
}
