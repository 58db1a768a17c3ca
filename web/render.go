package web

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// formErrors are the problems of one form: each beside its field, and all in the summary at the top.
type formErrors struct {
	List    []breach.FieldError // in the order found: the summary
	byField map[string]string
	labels  map[string]string // set by addLabelled
	shown   map[string]string // set by shownLabels
}

// addLabelled is add for a field the summary names by label rather than by its code: one of
// several like it on a page (the "Mailed on" date of batch 2).
func (f *formErrors) addLabelled(field, label, reason string) {
	if f.labels == nil {
		f.labels = map[string]string{}
	}
	f.labels[field] = label
	f.add(field, reason)
}

// Label is how the summary names the field: the label the page shows for it (see shownLabels),
// else its code in words.
func (f *formErrors) Label(field string) string {
	if l, ok := f.labels[field]; ok {
		return l
	}
	if l, ok := f.shown[field]; ok {
		return l
	}
	return words(field)
}

// Line is the summary's line for one problem: the field's label, then the reason as the rest of
// the sentence ("Number of people affected: must be an integer").
func (f *formErrors) Line(fe breach.FieldError) string {
	if fe.Field == "" {
		return fe.Reason
	}
	return f.Label(fe.Field) + ": " + uncapitalise(fe.Reason)
}

var (
	labelRE  = regexp.MustCompile(`(?s)<label for="([^"]+)"[^>]*>(.*?)</label>`)
	legendRE = regexp.MustCompile(`(?s)^[^>]*>\s*(?:<(?:div|fieldset|span)\b[^>]*>\s*)*<legend[^>]*>(.*?)</legend>`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
)

// shownLabels finds, in the page's rendered content, the label that each field in error shows:
// the <label for> of its control, or the <legend> of its group (a fieldset or a div holding one,
// with the field's id). The summary then names a field exactly as the form does, on every page.
func (f *formErrors) shownLabels(content string) {
	if !f.any() {
		return
	}
	byID := map[string]string{}
	for _, m := range labelRE.FindAllStringSubmatch(content, -1) {
		if _, ok := byID[m[1]]; !ok {
			byID[m[1]] = m[2]
		}
	}
	f.shown = map[string]string{}
	for _, fe := range f.List {
		id := fieldID(fe.Field)
		l, ok := byID[id]
		if !ok {
			at := strings.Index(content, ` id="`+id+`"`)
			if at < 0 {
				continue
			}
			m := legendRE.FindStringSubmatch(content[at+len(` id="`+id+`"`):])
			if m == nil {
				continue
			}
			l = m[1]
		}
		if text := strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(l, ""))), " "); text != "" {
			f.shown[fe.Field] = text
		}
	}
}

func (f *formErrors) add(field, reason string) {
	if f.byField == nil {
		f.byField = map[string]string{}
	}
	f.List = append(f.List, breach.FieldError{Field: field, Reason: reason})
	if _, ok := f.byField[field]; !ok {
		f.byField[field] = reason
	}
}

func (f *formErrors) any() bool { return f != nil && len(f.List) > 0 }

// For returns the message beside the field, "" when it has none.
func (f *formErrors) For(field string) string {
	if f == nil {
		return ""
	}
	return f.byField[field]
}

// navItem is one link of the navigation bar.
type navItem struct {
	Label, Href string
	Current     bool
}

// view is what every page template gets.
type view struct {
	Title  string
	User   *breach.User
	CSRF   string
	Nav    []navItem
	Flash  string
	Errors *formErrors
	Data   any
	Today  breach.Date
	// Content is the page's own template, rendered before the layout around it.
	Content template.HTML
}

// Can reports whether the signed-in person's role may call the contract's operation opID: a page
// offers a link or a form only to the roles the API will let through (x-roles, api.OperationRoles).
func (v view) Can(opID string) bool {
	return v.User != nil && slices.Contains(api.OperationRoles(opID), v.User.Role)
}

// breachNav is what the per-breach link row needs: the breach's ID and the person's view.
type breachNav struct {
	ID string
	V  view
}

// nav is the navigation bar for role: only what the role may use.
func nav(role breach.Role, current string) []navItem {
	items := []navItem{{Label: "Breaches", Href: "/breaches"}}
	if role == breach.RoleAdmin {
		items = append(items, navItem{Label: "New breach", Href: "/breaches/new"}, navItem{Label: "Users", Href: "/users"})
	}
	items = append(items, navItem{Label: "Your password", Href: "/account/password"})
	for i := range items {
		items[i].Current = current == items[i].Href || items[i].Href == "/breaches" && current != "/breaches/new" && strings.HasPrefix(current, "/breaches")
	}
	return items
}

// fieldView is one labelled form control with its hint and its error.
type fieldView struct {
	Name, ID, Label, Hint, Value, Type, Error string
}

func field(errs *formErrors, form url.Values, name, label, hint, typ string) fieldView {
	return fieldView{Name: name, ID: fieldID(name), Label: label, Hint: hint, Value: form.Get(name), Type: typ, Error: errs.For(name)}
}

// fieldID is the HTML id of a form field: the error summary links to it.
func fieldID(name string) string {
	if name == "" {
		return "main"
	}
	return "f-" + strings.NewReplacer(".", "-", "[", "-", "]", "", " ", "-").Replace(name)
}

var funcs = template.FuncMap{
	"field": field,
	"fid":   fieldID,
	"strs":  func(v url.Values, k string) []string { return v[k] },
	"date": func(d breach.Date) string {
		if d.IsZero() {
			return "—"
		}
		return d.Time().Format("Monday 2 January 2006")
	},
	"shortdate": func(d breach.Date) string {
		if d.IsZero() {
			return "—"
		}
		return d.Time().Format("2 Jan 2006")
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"iso": func(d breach.Date) string {
		if d.IsZero() {
			return ""
		}
		return d.String()
	},
	"words":  words,
	"plural": func(n int, one, many string) string { return map[bool]string{true: one, false: many}[n == 1] },
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"before": func(a, b breach.Date) bool { return !a.IsZero() && a.Time().Before(b.Time()) },
	"derefb": func(p *bool) bool { return p != nil && *p },
	"abs": func(n int) int {
		if n < 0 {
			return -n
		}
		return n
	},
	"add": func(a, b int) int { return a + b },
	"langName": func(code string) string {
		if code == "" {
			return "English"
		}
		return breach.LanguageLabel(code)
	},
	"content":  contentWords,
	"timeline": timelineSVG,
	"chart":    givenChart,
	"bnav":     func(v view, id string) breachNav { return breachNav{ID: id, V: v} },
	"join":     strings.Join,
	"lower":    strings.ToLower,
}

// contentWords names a missing part of the notice: "remediation", or "the Spanish (es) text"
// for the text in a language uploaded people need ("translation:es").
func contentWords(m breach.ContentElement) string {
	if lang, ok := strings.CutPrefix(string(m), "translation:"); ok {
		return "the " + breach.LanguageLabel(lang) + " text"
	}
	return words(m)
}

// words turns a code such as "risk_of_harm" into "risk of harm".
func words(s any) string { return strings.ReplaceAll(fmt.Sprint(s), "_", " ") }

// uncapitalise lowers the first letter of a reason to continue a sentence, unless its first word
// is an acronym or a code ("IC 24-4.9", "URL").
func uncapitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	if next, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(next) || unicode.IsDigit(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func (c *Console) parseTemplates() error {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", base, err)
		}
		c.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}

const flashCookie = "breachd_flash"

// flash keeps a one-line confirmation for the next page the person sees.
func (c *Console) flash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// render writes the page name with its layout. st is nil on pages seen signed out.
func (c *Console) render(w http.ResponseWriter, r *http.Request, st *state, status int, name, title string, data any, errs *formErrors) {
	t := c.pages[name]
	if t == nil {
		c.cfg.Logger.ErrorContext(r.Context(), "web: no template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if errs == nil {
		errs = &formErrors{}
	}
	v := view{Title: title, Data: data, Errors: errs, Today: breach.DateOf(c.cfg.Now(), time.UTC)}
	if st != nil {
		v.User, v.CSRF, v.Nav = &st.user, st.sess.CSRF, nav(st.user.Role, r.URL.Path)
	}
	if ck, err := r.Cookie(flashCookie); err == nil {
		v.Flash, _ = url.QueryUnescape(ck.Value)
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	// The content first, so that the error summary above it names each field by the label shown;
	// a page with errors twice, so that a list of them within it (the determination's preview)
	// names them so too.
	var content bytes.Buffer
	for pass := 0; pass < 2; pass++ {
		content.Reset()
		if err := t.ExecuteTemplate(&content, "content", v); err != nil {
			c.cfg.Logger.ErrorContext(r.Context(), "web: render", "page", name, "error", err.Error())
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if !errs.any() || errs.shown != nil {
			break
		}
		errs.shownLabels(content.String())
	}
	v.Content = template.HTML(content.String()) // rendered by html/template itself
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "web: render", "page", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct{ Message string }

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, st *state, status int, title, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, st, status, "error", title, errorData{Message: msg}, nil)
}

func (c *Console) internalError(w http.ResponseWriter, r *http.Request, st *state, err error) {
	code := breach.ErrorCode(err)
	if code == breach.EUNAVAILABLE {
		c.errorPage(w, r, st, http.StatusServiceUnavailable, "The service is unavailable", "The store cannot be reached. Try again in a moment.")
		return
	}
	c.cfg.Logger.ErrorContext(r.Context(), "web: internal error", "path", r.URL.Path, "error", err.Error())
	c.errorPage(w, r, st, http.StatusInternalServerError, "Something went wrong", "The page could not be shown. The error has been logged; try again.")
}

// apiErrorPage shows a refusal of the API that no form field explains (not found, forbidden, …).
func (c *Console) apiErrorPage(w http.ResponseWriter, r *http.Request, st *state, res *result) {
	p := res.problem()
	switch {
	case res.Status == http.StatusNotFound:
		c.errorPage(w, r, st, http.StatusNotFound, "Not found", capitalise(p.Detail))
	case res.Status == http.StatusForbidden:
		c.errorPage(w, r, st, http.StatusForbidden, "You cannot do this", capitalise(p.Detail))
	case res.Status == http.StatusServiceUnavailable:
		c.errorPage(w, r, st, http.StatusServiceUnavailable, "The service is unavailable", capitalise(p.Detail))
	case res.Status >= 500:
		c.errorPage(w, r, st, http.StatusInternalServerError, "Something went wrong", "The page could not be shown. The error has been logged; try again.")
	default:
		c.errorPage(w, r, st, res.Status, "This could not be done", capitalise(p.Detail))
	}
}

// problemErrors turns the API's problem into form errors; prefix is stripped from field paths
// (e.g. "determination.") so they name the form's fields.
func problemErrors(p *problem, prefix string) *formErrors {
	f := &formErrors{}
	for _, fe := range p.Errors {
		f.add(strings.TrimPrefix(fe.Field, prefix), capitalise(fe.Reason))
	}
	if len(f.List) == 0 {
		f.add("", capitalise(p.Detail))
	}
	return f
}
